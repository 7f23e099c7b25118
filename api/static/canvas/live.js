/**
 * A player's live socket: a fresh ticket per connect, the join, deltas in, placements out, the
 * server's word on playing or queueing, and reconnecting with backoff when the socket is lost.
 */

import { ApiFailure, expectOk, jsonRequest } from '../api.js'
import { parseDelta } from './delta.js'

const BACKOFF_MS = [500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000]
const PING_EVERY_MS = 20_000
const PONG_WITHIN_MS = 8_000
const ANSWER_WITHIN_MS = 15_000
const CLOSE = { afk: 4001, badTicket: 4401, unknownCanvas: 4404, tooSlow: 4408 }

export class Live extends EventTarget {
  /** connecting | playing | queued | afk | closed */
  state = 'connecting'
  position = null
  queueLength = null
  players = null
  cap = null
  /** When the next attempt to reconnect is due (ms since the epoch), or null. */
  retryAt = null

  #socket = null
  #attempts = 0
  #retryTimer = 0
  #pingTimer = 0
  #pongTimer = 0
  #pending = new Map()
  #stopped = false
  #connecting = false
  #heardStatus = false

  constructor(canvasId, session, sync, account) {
    super()
    this.account = account
    this.base = `/api/canvas/${canvasId}`
    this.session = session
    this.sync = sync
  }

  get connected() {
    return this.#socket?.readyState === WebSocket.OPEN
  }

  start() {
    this.#stopped = false
    this.#connect()
  }

  stop() {
    this.#stopped = true
    clearTimeout(this.#retryTimer)
    this.retryAt = null
    this.#abandon()
    this.#setState('closed')
  }

  /** Back from AFK: a new ticket, a new place in line. */
  playAgain() {
    if (this.state !== 'afk') return
    this.#attempts = 0
    this.#connect()
  }

  /** Back online or visible again: reconnect now, or prove the socket alive and catch up. */
  nudge() {
    if (this.#stopped || this.#connecting || this.state === 'afk') return
    if (this.#socket === null) {
      this.#attempts = 0
      this.#connect()
    } else if (this.connected) {
      this.#ping()
      this.sync.catchUp()
    }
  }

  /** Place a pixel; resolves with `{version, replayed}` once committed. Over the socket when it
   *  is open, else over HTTP; a placement cut off by a lost socket is retried over HTTP with the
   *  same op, which the server answers without placing twice (`replayed`). */
  place(x, y, colour, op) {
    const placement = { type: 'place', x, y, colour, op }
    if (!this.connected) return this.#placeOverHttp(placement)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(op)
        reject(new ApiFailure(0, { error: 'no_answer', detail: 'the server did not answer in time' }))
      }, ANSWER_WITHIN_MS)
      this.#pending.set(op, { placement, resolve, reject, timer })
      this.#socket.send(JSON.stringify(placement))
    })
  }

  async #connect() {
    if (this.#connecting) return
    clearTimeout(this.#retryTimer)
    this.retryAt = null
    this.#setState('connecting')
    let ticket
    this.#connecting = true
    try {
      ticket = await this.#ticket()
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 401) return // signed out: the game lets go
      this.#retryLater()
      return
    } finally {
      this.#connecting = false
    }
    if (this.#stopped) return
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const since = this.sync.socketQuery()
    const socket = new WebSocket(`${scheme}//${location.host}${this.base}/live` +
      `?ticket=${encodeURIComponent(ticket)}${since ? `&${since}` : ''}`)
    socket.binaryType = 'arraybuffer'
    this.#socket = socket
    this.#heardStatus = false
    socket.onopen = () => {
      this.#attempts = 0
      this.sync.opened()
      this.#pingTimer = setInterval(() => this.#ping(), PING_EVERY_MS)
      this.#changed()
    }
    socket.onmessage = (event) => this.#received(event.data)
    socket.onclose = (event) => this.#closed(socket, event.code)
  }

  async #ticket() {
    const response = await expectOk(await this.session.fetch('/api/auth/ticket', { method: 'POST' }))
    return (await response.json()).ticket
  }

  #received(data) {
    clearTimeout(this.#pongTimer) // anything at all proves the socket alive
    this.#pongTimer = 0
    if (typeof data !== 'string') {
      let delta
      try {
        delta = parseDelta(data)
      } catch (error) {
        this.#report(error)
        return
      }
      this.sync.receive(delta)
      return
    }
    let message
    try {
      message = JSON.parse(data)
    } catch {
      return
    }
    switch (message.type) {
      case 'status':
        this.position = message.position ?? null
        this.queueLength = message.queue_length ?? null
        this.players = message.players ?? null
        this.cap = message.cap ?? null
        if (!this.#heardStatus) {
          this.#heardStatus = true
          this.sync.following()
        }
        this.#setState(message.state, true)
        break
      case 'ack': // a resend's ack is `replayed`: placed before, `version` is what it made then
        this.#settle(message.op, (pending) => pending.resolve({
          version: message.version, replayed: message.replayed === true,
        }))
        break
      case 'error':
        if (message.op && this.#pending.has(message.op)) {
          this.#settle(message.op, (pending) => pending.reject(new ApiFailure(0, message)))
        } else if (message.op || !this.sync.catchUpRefused()) {
          this.#report(new ApiFailure(0, message))
        }
        break
      case 'resync':
        this.sync.invalidate() // the server closes next; the next join reloads the snapshot
        break
    }
  }

  #closed(socket, code) {
    if (socket !== this.#socket) return // one we abandoned
    this.#socket = null
    this.#stopHeartbeat()
    this.#retryPending()
    if (this.#stopped) return
    switch (code) {
      case CLOSE.afk:
        this.#setState('afk', true)
        return
      case CLOSE.unknownCanvas:
        this.#report(new ApiFailure(404, { error: 'canvas_not_found', detail: 'this canvas is gone' }))
        this.stop()
        return
      case CLOSE.tooSlow:
        this.sync.invalidate()
        this.#connect()
        return
      default: // a bad ticket gets a new one; anything else is the network's doing
        this.#retryLater()
    }
  }

  #retryLater() {
    if (this.#stopped) return
    const base = BACKOFF_MS[Math.min(this.#attempts, BACKOFF_MS.length - 1)]
    const delay = base / 2 + Math.random() * base / 2
    this.#attempts++
    this.retryAt = Date.now() + delay
    this.#retryTimer = setTimeout(() => this.#connect(), delay)
    this.#setState('connecting', true)
  }

  #ping() {
    if (!this.connected || this.#pongTimer) return
    this.#socket.send('{"type":"ping"}')
    this.#pongTimer = setTimeout(() => {
      // A socket that cannot answer a ping is dead (a sleeping laptop, a dropped network).
      this.#pongTimer = 0
      this.#abandon()
      this.#retryPending()
      this.#connect()
    }, PONG_WITHIN_MS)
  }

  #abandon() {
    const socket = this.#socket
    if (socket === null) return
    this.#socket = null
    this.#stopHeartbeat()
    socket.onopen = socket.onmessage = socket.onclose = null
    socket.close(1000)
  }

  #stopHeartbeat() {
    clearInterval(this.#pingTimer)
    clearTimeout(this.#pongTimer)
    this.#pingTimer = this.#pongTimer = 0
  }

  #settle(op, settle) {
    const pending = this.#pending.get(op)
    if (pending === undefined) return
    this.#pending.delete(op)
    clearTimeout(pending.timer)
    settle(pending)
  }

  #retryPending() {
    for (const [op, pending] of this.#pending) {
      this.#pending.delete(op)
      clearTimeout(pending.timer)
      this.#placeOverHttp(pending.placement).then(pending.resolve, pending.reject)
    }
  }

  async #placeOverHttp({ x, y, colour, op }) {
    const response = await this.session.fetch(
      `${this.base}/pixels`, jsonRequest('POST', { x, y, colour, op }))
    await expectOk(response)
    return response.json()
  }

  #setState(state, always = false) {
    if (!always && state === this.state) return
    this.state = state
    this.#changed()
  }

  #changed() {
    this.dispatchEvent(new Event('change'))
  }

  #report(error) {
    this.dispatchEvent(new CustomEvent('error', { detail: error }))
  }
}
