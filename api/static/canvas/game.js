/**
 * Where this page stands on the canvas: a spectator (signed out, or AFK), or a player on the live
 * socket (queued or playing). A signed-out viewer watches over a socket of its own while the
 * server has room (`watch`); whenever no socket is open the board is polled instead, so it keeps
 * moving while a player reconnects.
 */

import { ApiFailure } from '../api.js'
import { Live } from './live.js'

export class Game extends EventTarget {
  #live = null

  constructor({ canvasId, session, sync, spectator, watch = null }) {
    super()
    this.canvasId = canvasId
    this.session = session
    this.sync = sync
    this.spectator = spectator
    this.watch = watch
    watch?.addEventListener('change', () => this.#changed())
    session.addEventListener('change', () => this.#follow())
    addEventListener('online', () => this.nudge())
    addEventListener('offline', () => this.#changed())
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.nudge()
    })
    this.#follow()
  }

  /** spectating | connecting | queued | playing | afk */
  get state() {
    const live = this.#live
    return live === null || live.state === 'closed' ? 'spectating' : live.state
  }

  get position() {
    return this.#live?.position ?? null
  }

  get queueLength() {
    return this.#live?.queueLength ?? null
  }

  /** live | reconnecting | polling | offline */
  get connection() {
    if (!navigator.onLine) return 'offline'
    if (this.#live?.connected || (this.#live === null && this.watch?.connected)) return 'live'
    if (this.#live !== null && this.#live.state === 'connecting') return 'reconnecting'
    return 'polling'
  }

  /** Whether a placement could go out now: the player's socket is open and the network up. */
  get canReachServer() {
    return navigator.onLine && this.#live?.connected === true
  }

  get retryAt() {
    return this.#live?.retryAt ?? null
  }

  async place(x, y, colour) {
    if (this.#live === null) {
      throw new ApiFailure(401, { error: 'unauthenticated', detail: 'sign in to play' })
    }
    const op = opId()
    try {
      return await this.#live.place(x, y, colour, op)
    } catch (error) {
      // Nothing was placed (another node kept writing first): once more, under the same op id,
      // so that it can never be placed twice.
      if (error?.code !== 'try_again' || this.#live === null) throw error
      await new Promise((resolve) => setTimeout(resolve, error.waitMs ?? 1000))
      return this.#live.place(x, y, colour, op)
    }
  }

  playAgain() {
    this.#live?.playAgain()
  }

  /** Play on another canvas (a new game): the socket moves there, a player's standing and
   *  cooldown start afresh, and the board is kept by that canvas's `sync` and `spectator`. */
  switchTo({ canvasId, sync, spectator, watch = null }) {
    const live = this.#live
    const previous = this.spectator
    const watching = this.watch
    this.#live = null
    Object.assign(this, { canvasId, sync, spectator, watch })
    watch?.addEventListener('change', () => this.#changed())
    previous.stop()
    watching?.stop()
    live?.stop()
    this.#follow()
  }

  /** Something suggests we missed news (back online, visible again): check now. */
  nudge() {
    this.#live?.nudge()
    this.watch?.nudge()
    this.spectator.now()
    this.#changed()
  }

  #follow() {
    const account = this.session.account?.id ?? null
    if (this.#live !== null && this.#live.account !== account) {
      this.#live.stop()
      this.#live = null
    }
    if (account !== null && this.#live === null) {
      const live = new Live(this.canvasId, this.session, this.sync, account)
      live.addEventListener('change', () => this.#changed())
      live.addEventListener('error', (event) => this.#report(event.detail))
      this.#live = live
      live.start()
    }
    this.#changed()
  }

  #changed() {
    if (this.#live === null) this.watch?.start()
    else this.watch?.stop()
    if (this.#live?.connected || (this.#live === null && this.watch?.connected)) {
      this.spectator.stop()
    } else {
      this.spectator.start()
    }
    this.dispatchEvent(new Event('change'))
  }

  #report(error) {
    this.dispatchEvent(new CustomEvent('error', { detail: error }))
  }
}

function opId() {
  if (crypto.randomUUID) return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16)) // plain http on a LAN: no randomUUID
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}
