/** Who plays on the canvas now, asked every `intervalMs` while the page is visible. */

export class Online {
  #timer = 0

  constructor(element, intervalMs) {
    this.element = element
    this.intervalMs = intervalMs
    this.canvasId = null
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.check()
    })
  }

  follow(canvasId) {
    this.canvasId = canvasId
    this.check()
  }

  async check() {
    clearTimeout(this.#timer)
    try {
      if (!document.hidden && this.canvasId !== null && navigator.onLine) {
        const response = await fetch(`/api/canvas/${this.canvasId}/online`, { headers: { Accept: 'application/json' } })
        if (response.ok) this.#show(await response.json())
      }
    } catch {
      // offline or a passing failure: asked again at the next tick
    }
    this.#timer = setTimeout(() => this.check(), this.intervalMs)
  }

  #show({ players, queued }) {
    const waiting = queued > 0 ? ` · ${queued} waiting` : ''
    this.element.textContent = `${players} ${players === 1 ? 'player' : 'players'} online${waiting}`
    this.element.hidden = false
  }
}
