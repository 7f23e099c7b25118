/**
 * A signed-out viewer's live socket: the board's deltas as they happen, while the server has
 * room for one more viewer. Refused for want of room (1013) or lost, the page polls the latest
 * snapshot instead (the game's spectator) and tries the socket again later.
 */

import { parseDelta } from './delta.js'

const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000]
const NO_ROOM_RETRY_MS = 60_000
const PING_EVERY_MS = 20_000
const PONG_WITHIN_MS = 8_000
const NO_ROOM = 1013

export class Watch extends EventTarget {
  #socket = null
  #attempts = 0
  #timer = 0
  #pingTimer = 0
  #pongTimer = 0
  #running = false

  constructor(canvasId, sync) {
    super()
    this.path = `/api/canvas/${canvasId}/live`
    this.sync = sync
  }

  get connected() {
    return this.#socket?.readyState === WebSocket.OPEN
  }

  start() {
    if (this.#running) return
    this.#running = true
    this.#connect()
  }

  stop() {
    this.#running = false
    clearTimeout(this.#timer)
    this.#drop()
  }

  /** Back online or visible again: try now instead of at the next attempt. */
  nudge() {
    if (!this.#running || this.#socket !== null) return
    this.#attempts = 0
    this.#connect()
  }

  #connect() {
    clearTimeout(this.#timer)
    if (!this.#running || this.#socket !== null) return
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const since = this.sync.socketQuery()
    const socket = new WebSocket(`${scheme}//${location.host}${this.path}${since ? `?${since}` : ''}`)
    socket.binaryType = 'arraybuffer'
    this.#socket = socket
    socket.onopen = () => {
      this.#attempts = 0
      this.sync.opened()
      this.#pingTimer = setInterval(() => this.#ping(), PING_EVERY_MS)
      this.#changed()
    }
    socket.onmessage = (event) => this.#received(event.data)
    socket.onclose = (event) => {
      if (socket !== this.#socket) return
      this.#drop()
      this.#later(event.code === NO_ROOM ? NO_ROOM_RETRY_MS : this.#backoff())
    }
  }

  #received(data) {
    clearTimeout(this.#pongTimer)
    this.#pongTimer = 0
    if (typeof data !== 'string') {
      let delta
      try {
        delta = parseDelta(data)
      } catch {
        return // a frame we cannot read: the next delta finds the gap and catches up
      }
      this.sync.receive(delta)
    } else if (data.includes('"resync"')) {
      this.sync.invalidate() // the server closes next; the next join reloads the snapshot
    } else if (data.includes('"error"')) {
      this.sync.catchUpRefused() // the socket could not catch us up: over HTTP
    }
  }

  #ping() {
    if (!this.connected || this.#pongTimer) return
    this.#socket.send('{"type":"ping"}')
    this.#pongTimer = setTimeout(() => {
      this.#pongTimer = 0
      this.#drop()
      this.#later(0)
    }, PONG_WITHIN_MS)
  }

  #backoff() {
    const base = BACKOFF_MS[Math.min(this.#attempts++, BACKOFF_MS.length - 1)]
    return base / 2 + Math.random() * base / 2
  }

  #later(delay) {
    if (!this.#running) return
    this.#timer = setTimeout(() => this.#connect(), delay)
  }

  #drop() {
    clearInterval(this.#pingTimer)
    clearTimeout(this.#pongTimer)
    this.#pingTimer = this.#pongTimer = 0
    const socket = this.#socket
    if (socket === null) return
    this.#socket = null
    socket.onopen = socket.onmessage = socket.onclose = null
    if (socket.readyState <= WebSocket.OPEN) socket.close(1000)
    this.#changed()
  }

  #changed() {
    this.dispatchEvent(new Event('change'))
  }
}
