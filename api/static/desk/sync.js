/**
 * The desk's live socket: `hello` with where we are, the missed ops or a snapshot, then the
 * outbox sent again in `client_seq` order, live ops merged as they come, acks emptying the
 * outbox; reconnecting with backoff, and waiting for the network when the browser is offline.
 *
 * Events: `change` (stickers or sync state), `collision`, `presence`, `gone`, `problem`, and
 * `session` `{epoch, previous, announced}` when the desk moved on to a new collaboration session
 * (`announced`: we were told live, by `session_finished`; otherwise we found out on reconnecting).
 */

import { DEFAULTS } from './replica.js'

const BACKOFF_MS = [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000]
const PING_EVERY_MS = 20_000
const CLOSE = { unknownDesk: 4404, expired: 4410, foreignOrigin: 4403 }
const GAP_WAIT_MS = 300
const RESEND_MS = 1000
const CAUGHT_UP_OR_LOST = new Set(['seq_gap', 'clock_skew', 'hello_first', 'wrong_client'])

export class Sync extends EventTarget {
  /** connecting | synced | offline | gone */
  state = 'connecting'
  everSynced = false
  epoch = 0
  lastSeq = 0

  #socket = null
  #attempts = 0
  #retryTimer = 0
  #pingTimer = 0
  #sentUpTo = 0
  #stopped = false
  #synced = null
  #finishAnnounced = false
  /** desk_seqs that came in ahead of `lastSeq` (ours are acknowledged, never echoed back). */
  #early = new Set()
  #gapTimer = 0
  #resendTimer = 0

  /** `account`: the signed-in account's session (its token goes with each hello), if any. */
  constructor({ deskId, session, replica, clock, outbox, account = null }) {
    super()
    this.account = account
    this.url = `/api/desk/${deskId}/live`
    this.session = session
    this.replica = replica
    this.clock = clock
    this.outbox = outbox
    this.firstSync = new Promise((resolve) => { this.#synced = resolve })
  }

  get synced() {
    return this.state === 'synced'
  }

  start() {
    addEventListener('online', () => this.#reconnectNow())
    addEventListener('offline', () => this.#wentOffline())
    if (navigator.onLine) this.#connect()
    else this.#wentOffline()
  }

  stop() {
    this.#stopped = true
    clearTimeout(this.#retryTimer)
    this.#abandon()
  }

  /** A local op (already merged into the replica): stored, then sent when the socket is synced. */
  async submit(op) {
    const stored = this.outbox.add(op)
    this.#changed()
    await stored
    this.flush()
  }

  /** Send what the server has not been sent on this socket yet, in order, up to the first op
   *  not stored yet (nothing is sent before it is safe in IndexedDB). */
  flush() {
    if (!this.synced) return
    for (const op of this.outbox.ops) {
      if (op.client_seq <= this.#sentUpTo) continue
      if (!op.stored) break
      const { stored, ...wire } = op
      this.#socket.send(JSON.stringify({ type: 'op', ...wire }))
      this.#sentUpTo = op.client_seq
    }
  }

  presence(frame) {
    if (this.synced) this.#socket.send(JSON.stringify({ type: 'presence', ...frame }))
  }

  // -- the socket -----------------------------------------------------------------------------

  #connect() {
    if (this.#stopped || this.#socket !== null) return
    clearTimeout(this.#retryTimer)
    this.#setState('connecting')
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const socket = new WebSocket(`${scheme}//${location.host}${this.url}`)
    this.#socket = socket
    socket.onopen = () => {
      this.#attempts = 0
      this.#hello()
      this.#pingTimer = setInterval(() => socket.send('{"type":"ping"}'), PING_EVERY_MS)
    }
    socket.onmessage = (event) => this.#received(event.data)
    socket.onclose = (event) => this.#closed(socket, event.code, event.reason)
  }

  #hello() {
    this.#setState('connecting')
    const hello = { type: 'hello', client_id: this.session.client_id, epoch: this.epoch, last_seq: this.lastSeq }
    if (this.session.client_id !== this.session.session_key) hello.session_key = this.session.session_key
    const token = this.account?.accessToken ?? null
    if (token !== null) hello.access_token = token
    this.#socket.send(JSON.stringify(hello))
  }

  #received(data) {
    let message
    try {
      message = JSON.parse(data)
    } catch {
      return
    }
    switch (message.type) {
      case 'snapshot':
        this.#atEpoch(message.epoch)
        for (const sticker of message.stickers) this.#observe(sticker.stamps)
        for (const sticker of message.stickers) this.replica.load(sticker)
        this.lastSeq = message.desk_seq
        this.#arrived(0)
        this.#changed()
        break
      case 'op':
        this.#op(message)
        break
      case 'synced':
        this.#atEpoch(message.epoch)
        this.lastSeq = Math.max(this.lastSeq, message.desk_seq)
        this.#arrived(0)
        // Ours that are still unacknowledged stay on top of what the server sent.
        for (const op of this.outbox.ops) this.replica.merge(op.sticker, op.fields, op.stamp)
        this.#sentUpTo = 0
        this.everSynced = true
        this.#setState('synced')
        this.#synced()
        this.flush()
        break
      case 'ack':
        this.#arrived(message.desk_seq)
        this.outbox.acknowledged(message.client_seq).then(() => this.#changed())
        break
      case 'collision':
        this.clock.observe(message.winner_stamp)
        this.dispatchEvent(new CustomEvent('collision', { detail: message }))
        break
      case 'presence':
      case 'gone':
        this.dispatchEvent(new CustomEvent(message.type, { detail: message }))
        break
      case 'session_finished':
        // Hello again at our (old) epoch: the answer is a snapshot of the new one.
        if (message.epoch <= this.epoch) break
        this.#finishAnnounced = true
        if (this.#socket !== null && this.state !== 'offline') this.#hello()
        break
      case 'error':
        this.#refused(message)
        break
    }
  }

  #atEpoch(epoch) {
    const previous = this.epoch
    this.epoch = epoch
    if (previous === 0 || epoch <= previous) return // first join, or a rebuild from scratch
    const announced = this.#finishAnnounced
    this.#finishAnnounced = false
    this.dispatchEvent(new CustomEvent('session', { detail: { epoch, previous, announced } }))
  }

  #op(message) {
    this.clock.observe(message.stamp)
    const fields = message.create ? { ...DEFAULTS, ...message.fields } : message.fields
    this.replica.merge(message.sticker, fields, message.stamp)
    this.#arrived(message.desk_seq)
    this.dispatchEvent(new CustomEvent('op', { detail: message.sticker }))
    this.#changed()
  }

  /** `seq` came in: someone else's op, or the ack of ours. Move `lastSeq` on through every
   *  number we have; a number still missing after a moment (not an ack of ours on its way) is
   *  asked for again with a hello. `seq` 0: only forget what `lastSeq` has passed. */
  #arrived(seq) {
    if (seq > this.lastSeq) this.#early.add(seq)
    for (const early of this.#early) if (early <= this.lastSeq) this.#early.delete(early)
    while (this.#early.delete(this.lastSeq + 1)) this.lastSeq += 1
    if (this.#early.size === 0 || this.#gapTimer) return
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = 0
      if (this.#early.size > 0 && this.synced) this.#hello()
    }, GAP_WAIT_MS)
  }

  #observe(stamps) {
    for (const stamp of Object.values(stamps)) this.clock.observe(stamp)
  }

  async #refused(error) {
    const seq = error.client_seq
    switch (error.error) {
      case 'seq_gap':
        this.#sentUpTo = Math.min(this.#sentUpTo, error.expected_seq - 1)
        this.flush()
        return
      case 'try_again': // nothing was saved (the server lost a race): the same op again, soon
        this.#sentUpTo = Math.min(this.#sentUpTo, seq - 1)
        clearTimeout(this.#resendTimer)
        this.#resendTimer = setTimeout(() => this.flush(), error.wait_ms ?? RESEND_MS)
        return
      case 'invalid_token':
      case 'session_revoked': // the desk works as before; the next hello shows a fresh token
        this.account?.refresh().catch(() => {})
        return
      case 'clock_skew': {
        this.clock.followServer(error.server_ms)
        const ahead = this.outbox.ops.filter((op) => op.stamp[0] > error.server_ms)
        for (const op of ahead) {
          const stamp = this.clock.tick()
          this.replica.restamp(op.sticker, op.fields, op.stamp, stamp)
          op.stamp = stamp
        }
        await this.outbox.rewrite(ahead)
        this.#sentUpTo = Math.min(this.#sentUpTo, seq - 1)
        this.flush()
        return
      }
    }
    this.dispatchEvent(new CustomEvent('problem', { detail: error }))
    if (seq === undefined || CAUGHT_UP_OR_LOST.has(error.error)) return
    // Refused for good (an unknown sticker, a bad value): drop it, and rebuild the desk from the
    // server's snapshot and our other pending ops, so the refused change disappears here too.
    await this.outbox.refused(seq)
    this.#sentUpTo = Math.min(this.#sentUpTo, seq - 1)
    this.replica.clear()
    this.epoch = 0
    this.lastSeq = 0
    this.#early.clear()
    if (this.#socket !== null) this.#hello()
    this.#changed()
  }

  #closed(socket, code, reason) {
    if (socket !== this.#socket) return
    this.#forget()
    if (this.#stopped) return
    if (code === CLOSE.unknownDesk || code === CLOSE.expired || code === CLOSE.foreignOrigin) {
      this.#stopped = true
      this.#setState('gone')
      const error = code === CLOSE.foreignOrigin ? 'refused' : 'desk_gone'
      this.dispatchEvent(new CustomEvent('problem', { detail: { error, code, detail: reason } }))
      return
    }
    if (!navigator.onLine) {
      this.#wentOffline()
      return
    }
    const base = BACKOFF_MS[Math.min(this.#attempts++, BACKOFF_MS.length - 1)]
    this.#retryTimer = setTimeout(() => this.#connect(), base / 2 + (Math.random() * base) / 2)
    this.#setState('connecting')
  }

  #wentOffline() {
    if (this.#stopped) return
    this.#abandon()
    this.#setState('offline')
  }

  #reconnectNow() {
    if (this.#stopped) return
    this.#attempts = 0
    this.#abandon()
    this.#connect()
  }

  #abandon() {
    const socket = this.#socket
    if (socket === null) return
    this.#forget()
    socket.onopen = socket.onmessage = socket.onclose = null
    socket.close(1000)
  }

  #forget() {
    clearInterval(this.#pingTimer)
    this.#socket = null
    this.#sentUpTo = 0
  }

  #setState(state) {
    if (state === this.state) return
    this.state = state
    this.#changed()
  }

  #changed() {
    this.dispatchEvent(new Event('change'))
  }
}
