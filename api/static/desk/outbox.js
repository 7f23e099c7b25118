/**
 * Ops not yet acknowledged, in IndexedDB: an op is stored (with its `client_seq`, and the last
 * `client_seq` given out) before it is sent, and dropped once acknowledged, so edits made offline
 * survive closing the tab and are sent again when the desk is opened next.
 */

const DB_NAME = 'tessera-desk'
const OPS = 'ops' // key [client_id, client_seq]
const SEQS = 'seqs' // key client_id: {client_id, last_seq}

function opened() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1)
    request.onupgradeneeded = () => {
      request.result.createObjectStore(OPS, { keyPath: ['client_id', 'client_seq'] })
      request.result.createObjectStore(SEQS, { keyPath: 'client_id' })
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

function done(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve()
    transaction.onerror = transaction.onabort = () => reject(transaction.error)
  })
}

function answer(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

export class Outbox {
  /** Unacknowledged ops in `client_seq` order; `stored` is set once IndexedDB holds one. */
  ops = []
  lastSeq = 0

  static async open(clientId) {
    const outbox = new Outbox(clientId, await opened())
    const transaction = outbox.db.transaction([OPS, SEQS], 'readonly')
    const range = IDBKeyRange.bound([clientId, 0], [clientId, Infinity])
    const [ops, seqs] = await Promise.all([
      answer(transaction.objectStore(OPS).getAll(range)),
      answer(transaction.objectStore(SEQS).get(clientId)),
    ])
    outbox.ops = ops.map((op) => ({ ...op, stored: true }))
    outbox.lastSeq = Math.max(seqs?.last_seq ?? 0, ops.at(-1)?.client_seq ?? 0)
    return outbox
  }

  constructor(clientId, db) {
    this.clientId = clientId
    this.db = db
  }

  get size() {
    return this.ops.length
  }

  /** Give `op` the next `client_seq` and store it; resolves once it is stored. */
  add(op) {
    op.client_seq = ++this.lastSeq
    this.ops.push(op)
    return this.#write([op]).then(() => { op.stored = true })
  }

  /** Everything up to `clientSeq` was acknowledged (the server takes an author's ops in order). */
  async acknowledged(clientSeq) {
    const index = this.ops.findIndex((op) => op.client_seq > clientSeq)
    const gone = index < 0 ? this.ops.length : index
    if (gone === 0) return
    this.ops.splice(0, gone)
    const transaction = this.db.transaction(OPS, 'readwrite')
    transaction.objectStore(OPS).delete(IDBKeyRange.bound([this.clientId, 0], [this.clientId, clientSeq]))
    await done(transaction)
  }

  /** The server refused `clientSeq` for good: drop it and number the later ones down (a
   *  refused op does not use up its number). */
  async refused(clientSeq) {
    const index = this.ops.findIndex((op) => op.client_seq === clientSeq)
    if (index < 0) return null
    const [dropped] = this.ops.splice(index, 1)
    const later = this.ops.slice(index)
    for (const op of later) op.client_seq -= 1
    this.lastSeq -= 1
    const transaction = this.db.transaction([OPS, SEQS], 'readwrite')
    const store = transaction.objectStore(OPS)
    store.delete(IDBKeyRange.bound([this.clientId, clientSeq], [this.clientId, Infinity]))
    for (const op of later) store.put(this.#record(op))
    transaction.objectStore(SEQS).put({ client_id: this.clientId, last_seq: this.lastSeq })
    await done(transaction)
    return dropped
  }

  /** Ops changed in place (new stamps): store them again. */
  rewrite(ops) {
    return this.#write(ops)
  }

  #write(ops) {
    const transaction = this.db.transaction([OPS, SEQS], 'readwrite')
    for (const op of ops) transaction.objectStore(OPS).put(this.#record(op))
    transaction.objectStore(SEQS).put({ client_id: this.clientId, last_seq: this.lastSeq })
    return done(transaction)
  }

  #record(op) {
    const { stored, ...record } = op
    return record
  }
}
