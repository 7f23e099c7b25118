/**
 * A live socket that resumes: it remembers the last version it saw and reconnects with
 * `?since=` (after a second, then longer), so nothing committed in between is missed.
 * With `ticket` (a function that fetches a one-time sign-in ticket), the socket is the signed-in
 * player's, and `request` records on it: a shot or an undo answered by its `ack` or `error`.
 */

export class Live {
  #url
  #onFrame
  #socket = null
  #closed = false
  #delay = 1000
  #ticket
  #waiting = new Map() // key → {resolve, reject, timer}
  version = 0

  constructor(url, onFrame, { ticket = null } = {}) {
    this.#url = url
    this.#onFrame = onFrame
    this.#ticket = ticket
    this.#open()
  }

  /** Whether `request` can go over this socket now. */
  get ready() {
    return this.#ticket !== null && this.#socket?.readyState === WebSocket.OPEN
  }

  /**
   * Send `frame` (it has a `key`) and wait for its answer: resolves on `ack`, rejects with the
   * `error` frame, or with a timeout / a closed socket (then the caller may send the same key
   * over HTTP: a key is recorded once).
   */
  request(frame, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      if (!this.ready) return reject(new Error('not connected'))
      const timer = setTimeout(() => this.#settle(frame.key, null, new Error('no answer')), timeoutMs)
      this.#waiting.set(frame.key, { resolve, reject, timer })
      this.#socket.send(JSON.stringify(frame))
    })
  }

  #settle(key, frame, failure = null) {
    const waiting = this.#waiting.get(key)
    if (!waiting) return
    this.#waiting.delete(key)
    clearTimeout(waiting.timer)
    if (failure) waiting.reject(failure)
    else if (frame.type === 'ack') waiting.resolve(frame)
    else waiting.reject(Object.assign(new Error(frame.detail || frame.error), { frame }))
  }

  async #open() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    let query = `since=${this.version}`
    if (this.#ticket !== null) {
      try {
        query += `&ticket=${encodeURIComponent(await this.#ticket())}`
      } catch {
        // watch without signing in: shots then go over HTTP
      }
    }
    if (this.#closed) return
    const socket = new WebSocket(`${scheme}://${location.host}${this.#url}?${query}`)
    this.#socket = socket
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data)
      if ((frame.type === 'ack' || frame.type === 'error') && frame.key) {
        this.#settle(frame.key, frame)
        return
      }
      if (typeof frame.version === 'number') {
        if (frame.type !== 'synced' && frame.version <= this.version && frame.type !== 'board') return
        this.version = Math.max(this.version, frame.version)
      }
      this.#delay = 1000
      this.#onFrame(frame)
    }
    socket.onclose = () => {
      for (const key of [...this.#waiting.keys()]) this.#settle(key, null, new Error('closed'))
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
