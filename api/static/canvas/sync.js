/**
 * Keeps the board at the server's version.
 *
 * Every change to the board (a snapshot, a catch-up, a live delta) runs through one queue, in
 * order: a fetch in flight never races a delta that arrives meanwhile, and the deltas a new socket
 * delivers while the join's snapshot downloads wait in that queue (the join's buffer). A delta
 * `(from, to]` applies to the board at `from`; one that ends at or before our version is dropped;
 * one that starts after it, or straddles it, makes us fetch `/deltas?since=<our version>` first.
 *
 * A socket that reconnects asks for what we missed itself (`?since=<our version>`): its first
 * frame is the delta from our version, or an error frame after which we catch up over HTTP.
 */

import { expectOk, failureOf } from '../api.js'
import { parseDelta } from './delta.js'

const ATTEMPTS = 3
/** How long after a socket's catch-up a canvas that stayed quiet is asked once more over HTTP. */
const QUIET_CHECK_MS = 2_000

export class Sync extends EventTarget {
  #chain = Promise.resolve()
  #stale = false
  /** What the socket being opened was asked for: null (nothing: we join over HTTP), 'asked'
   *  (its first frame catches us up), 'done' (it did). */
  #socketCatchUp = null
  /** No live delta since the socket's catch-up (see #checkWhenQuiet). */
  #quiet = false
  #quietTimer = 0
  /** When the board was last known to be the server's (ms since the epoch), or null: now for an
   *  answer from the network, the time it was kept for a board the service worker kept. */
  asOf = null

  constructor(canvasId, board) {
    super()
    this.base = `/api/canvas/${canvasId}`
    this.board = board
  }

  /** After a socket opened: a snapshot for a new or stale board, else what we missed meanwhile. */
  join() {
    return this.#serial(() =>
      this.board.version === null || this.#stale ? this.#loadLatest() : this.#catchUp())
  }

  /** The query for a socket about to open: `since=<our version>` when we hold a board the
   *  socket can bring up to date, else '' (it then joins over HTTP once open). */
  socketQuery() {
    const catchUp = this.board.version !== null && !this.#stale
    this.#socketCatchUp = catchUp ? 'asked' : null
    return catchUp ? `since=${this.board.version}` : ''
  }

  /** The socket opened: unless it brings us up to date itself, join over HTTP. */
  opened() {
    if (this.#socketCatchUp === null) return this.join()
  }

  /** An error frame without an op: when it answers the socket's catch-up (`gone`,
   *  `unavailable`…), we join over HTTP instead. Returns whether it did. */
  catchUpRefused() {
    if (this.#socketCatchUp !== 'asked') return false
    this.#socketCatchUp = null
    this.join()
    return true
  }

  /** The server follows the canvas for this socket now (a player's first status): fetch what
   *  may have been placed since we joined over HTTP. A socket that caught us up itself needs
   *  nothing: it began following before it read what we missed. */
  following() {
    if (this.#socketCatchUp !== 'done') this.catchUp()
  }

  /** A live delta, applied in its turn; a socket's first one is its catch-up. */
  receive(delta) {
    const catchUp = this.#socketCatchUp === 'asked'
    if (catchUp) {
      this.#socketCatchUp = 'done'
      this.#checkWhenQuiet()
    } else {
      this.#quiet = false
    }
    return this.#serial(async () => {
      await this.#accept(delta)
      if (catchUp && this.board.version === delta.to) this.asOf = Date.now()
    })
  }

  /** Fetch whatever happened since our version (back online, a socket that may have missed some). */
  catchUp() {
    return this.#serial(() => (this.board.version === null ? this.#loadLatest() : this.#catchUp()))
  }

  /** A spectator's poll: the latest snapshot, downloaded only when its version changed. */
  poll() {
    return this.#serial(() => this.#loadLatest())
  }

  /** We fell behind (the server said resync): the next join reloads the snapshot. */
  invalidate() {
    this.#stale = true
  }

  /** The read model's ring commits a delta just after it is published, so a socket's catch-up
   *  can come too early for the last one while the socket began listening too late for it. The
   *  next delta shows such a gap (#accept); on a canvas that goes quiet, one more catch-up over
   *  HTTP a moment later does. */
  #checkWhenQuiet() {
    this.#quiet = true
    clearTimeout(this.#quietTimer)
    this.#quietTimer = setTimeout(() => {
      if (this.#quiet) this.catchUp()
    }, QUIET_CHECK_MS)
  }

  #serial(task) {
    this.#chain = this.#chain.then(task).catch((error) => {
      this.dispatchEvent(new CustomEvent('error', { detail: error }))
    })
    return this.#chain
  }

  async #accept(delta) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const version = this.board.version
      if (version === null) {
        await this.#loadLatest()
        continue
      }
      if (delta.to <= version) return
      if (delta.from === version) return this.#apply(delta)
      if (delta.from < version && attempt > 0) {
        // Still straddling after a catch-up (the read side lagged the live one). Entries set
        // absolute colours and a reset clears, so replaying the part we hold is harmless.
        return this.#apply(delta)
      }
      await this.#catchUp()
    }
    // Still ahead of everything the server would give us: the next delta or join catches up.
  }

  async #apply(delta) {
    if (delta.reload) return this.#loadVersion(delta.to)
    this.board.apply(delta)
    this.asOf = Date.now()
  }

  async #catchUp() {
    const since = this.board.version
    const response = await fetch(`${this.base}/deltas?since=${since}`, { cache: 'no-store' })
    if (response.status === 410) return this.#loadLatest() // left the delta ring
    if (response.status === 400) {
      const failure = await failureOf(response)
      // Our version is newer than the server's: its store was reset. Start over from its board.
      if (failure.code === 'version_in_future') return this.#loadLatest({ force: true })
      throw failure
    }
    await expectOk(response)
    const delta = parseDelta(await response.arrayBuffer())
    if (delta.from !== since) return this.#loadLatest()
    if (delta.to > since) await this.#apply(delta)
    this.asOf = Date.now()
  }

  async #loadLatest({ force = false } = {}) {
    const held = this.board.version
    // The latest URL answers 304 to the version we hold; otherwise it redirects to the immutable
    // snapshot, which then differs from our If-None-Match and comes whole.
    const headers = held !== null && !force && !this.#stale ? { 'If-None-Match': `"${held}"` } : {}
    const response = await fetch(`${this.base}/snapshot/latest`, { headers })
    if (response.status === 304) {
      this.asOf = Date.now()
      return
    }
    await this.#load(response, force)
  }

  async #loadVersion(version) {
    await this.#load(await fetch(`${this.base}/snapshot/${version}`), false)
  }

  async #load(response, force) {
    await expectOk(response)
    const version = Number(response.headers.get('X-Canvas-Version'))
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new Error('a snapshot without its X-Canvas-Version')
    }
    const bytes = new Uint8Array(await response.arrayBuffer())
    if (!force && this.board.version !== null && version < this.board.version) return // a stale copy
    this.board.load(bytes, version)
    this.#stale = false
    const kept = Number(response.headers.get('X-Tessera-Kept-At'))
    this.asOf = kept > 0 ? kept : Date.now()
  }
}
