/**
 * Which canvas is the current game, so an open page follows a new one. Asked every poll interval
 * while the page is visible, of `/api/config` (answered from a cache of a second, no query): its
 * `current_canvas` is null while no game is open, where `/api/canvas/current` would answer 404,
 * which the browser logs as an error at every poll.
 */

import { getJson } from '../api.js'

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
    const { current_canvas: id } = await getJson('/api/config')
    if (!id || id === this.known) return // none open: the page keeps showing its canvas
    this.onNewGame(await getJson(`/api/canvas/${id}`))
    this.known = id
  }

  #later() {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.check(), this.intervalMs)
  }
}
