/** A spectator's board: the latest snapshot, polled while the page is visible. */

export class Spectator {
  #timer = 0
  #running = false
  #busy = false

  constructor(sync, intervalMs) {
    this.sync = sync
    this.intervalMs = intervalMs
  }

  get running() {
    return this.#running
  }

  start() {
    if (this.#running) return
    this.#running = true
    this.#tick()
  }

  stop() {
    this.#running = false
    clearTimeout(this.#timer)
  }

  /** Poll now (back online, visible again) instead of at the next tick. */
  now() {
    if (this.#running) this.#tick()
  }

  async #tick() {
    clearTimeout(this.#timer)
    if (this.#busy) return // the poll in flight schedules the next one
    this.#busy = true
    try {
      if (!document.hidden) await this.sync.poll()
    } finally {
      this.#busy = false
    }
    if (this.#running) this.#timer = setTimeout(() => this.#tick(), this.intervalMs)
  }
}
