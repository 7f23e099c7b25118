/** The wait before the next pixel, counted down on screen and kept across reloads. */

export class Cooldown {
  #until = 0
  #timer = 0

  constructor(element, canvasId, onChange) {
    this.element = element
    this.onChange = onChange
    this.setCanvas(canvasId)
  }

  /** Another canvas (a new game): its own wait, none unless one was kept for it. */
  setCanvas(canvasId) {
    this.key = `tessera.cooldown.${canvasId}`
    this.#until = Number(localStorage.getItem(this.key)) || 0
    this.#tick()
  }

  get remainingMs() {
    return Math.max(0, this.#until - Date.now())
  }

  get active() {
    return this.remainingMs > 0
  }

  /** What is left, as `m:ss` (rounded up: 0:00 only once it is over), as the page shows it. */
  get text() {
    const seconds = Math.ceil(this.remainingMs / 1000)
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
  }

  start(ms) {
    this.#until = Date.now() + ms
    try {
      localStorage.setItem(this.key, String(this.#until))
    } catch {
      // only this page knows
    }
    this.#tick()
  }

  #tick() {
    clearTimeout(this.#timer)
    const remaining = this.remainingMs
    if (remaining > 0) {
      this.element.textContent = `Next pixel in ${this.text}`
      this.element.dataset.state = 'waiting'
      this.#timer = setTimeout(() => this.#tick(), remaining % 1000 || 1000)
    } else {
      this.element.textContent = 'Ready'
      this.element.dataset.state = 'ready'
    }
    this.onChange()
  }
}
