/**
 * Which canvas is the current game, so an open page follows a new one. Asked every poll interval
 * while the page is visible, with the ETag the browser kept: while the game stays the same the
 * server answers 304 from a cache (no query, a few header bytes), cheap enough for every page.
 */

export class CurrentGame {
  #timer = 0
  #busy = false

  /** `known`: the current game's id as the page last knew it (null: none was open). */
  constructor(known, intervalMs, onNewGame) {
    this.known = known
    this.intervalMs = intervalMs
    this.onNewGame = onNewGame
  }

  start() {
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.check()
    })
    addEventListener('online', () => this.check())
    this.#later()
  }

  /** Ask now (back online, visible again) instead of at the next tick. */
  async check() {
    clearTimeout(this.#timer)
    if (this.#busy) return // the question in flight schedules the next one
    this.#busy = true
    try {
      if (!document.hidden) await this.#ask()
    } catch (error) {
      console.warn(error) // offline or a passing failure: asked again at the next tick
    } finally {
      this.#busy = false
      this.#later()
    }
  }

  async #ask() {
    // `no-cache` revalidates every time; a 304 reaches us as the 200 the browser kept.
    const response = await fetch('/api/canvas/current', {
      cache: 'no-cache',
      headers: { Accept: 'application/json' },
    })
    if (!response.ok) return // no game is open (404): the page keeps showing its canvas
    const canvas = await response.json()
    if (canvas.id === this.known) return
    this.onNewGame(canvas)
    this.known = canvas.id
  }

  #later() {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.check(), this.intervalMs)
  }
}
