/**
 * A live socket that resumes: it remembers the last version it saw and reconnects with
 * `?since=` (after a second, then longer), so nothing committed in between is missed.
 */

export class Live {
  #url
  #onFrame
  #socket = null
  #closed = false
  #delay = 1000
  version = 0

  constructor(url, onFrame) {
    this.#url = url
    this.#onFrame = onFrame
    this.#open()
  }

  #open() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    const socket = new WebSocket(`${scheme}://${location.host}${this.#url}?since=${this.version}`)
    this.#socket = socket
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data)
      if (typeof frame.version === 'number') {
        if (frame.type !== 'synced' && frame.version <= this.version && frame.type !== 'board') return
        this.version = Math.max(this.version, frame.version)
      }
      this.#delay = 1000
      this.#onFrame(frame)
    }
    socket.onclose = () => {
      if (this.#closed) return
      setTimeout(() => this.#open(), this.#delay)
      this.#delay = Math.min(this.#delay * 2, 15000)
    }
  }

  close() {
    this.#closed = true
    this.#socket?.close()
  }
}
