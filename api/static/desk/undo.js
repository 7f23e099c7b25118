/**
 * Undo and redo per user: an entry remembers what a change of ours replaced (`from`) and what it
 * set (`to`); undoing it reverts only the fields whose current value is still ours (the current
 * stamp's client id is ours), so nobody else's later change is ever undone.
 */

export class History {
  #undo = []
  #redo = []

  constructor(clientId, replica) {
    this.clientId = clientId
    this.replica = replica
  }

  get canUndo() {
    return this.#undo.length > 0
  }

  get canRedo() {
    return this.#redo.length > 0
  }

  /** Forget everything: a new session starts with nothing to undo. */
  clear() {
    this.#undo.length = 0
    this.#redo.length = 0
  }

  record(sticker, from, to) {
    this.#undo.push({ sticker, from, to })
    this.#redo.length = 0
  }

  /** The change that undoes our latest still-undoable change: `{sticker, fields}`, or null. */
  undo() {
    return this.#step(this.#undo, this.#redo, 'from')
  }

  redo() {
    return this.#step(this.#redo, this.#undo, 'to')
  }

  #step(source, target, side) {
    while (source.length > 0) {
      const entry = source.pop()
      const fields = {}
      for (const field of Object.keys(entry[side])) {
        if (this.replica.stamp(entry.sticker, field)?.[2] === this.clientId) fields[field] = entry[side][field]
      }
      if (Object.keys(fields).length === 0) continue // all of it was overwritten by others
      target.push({ sticker: entry.sticker, from: pick(entry.from, fields), to: pick(entry.to, fields) })
      return { sticker: entry.sticker, fields }
    }
    return null
  }
}

function pick(values, fields) {
  return Object.fromEntries(Object.keys(fields).map((field) => [field, values[field]]))
}
