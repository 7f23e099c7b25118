/**
 * The desk as this page knows it: per sticker, per field, a last-writer-wins register holding a
 * value and its stamp. The same rules as the server's (domain/lww.py), so any order of the same
 * changes gives the same desk.
 */

import { compareStamps } from './hlc.js'

export const FIELDS = ['x', 'y', 'w', 'h', 'z', 'colour', 'text', 'deleted']
export const DEFAULTS = {
  x: 0, y: 0, w: 200, h: 200, z: 'a0', colour: '#fff59d', text: '', deleted: false,
}

export class Replica {
  /** sticker id -> field -> [value, stamp] */
  #registers = new Map()

  has(id) {
    return this.#registers.has(id)
  }

  ids() {
    return [...this.#registers.keys()]
  }

  clear() {
    this.#registers.clear()
  }

  /** Merge one change; returns the fields it took. */
  merge(id, fields, stamp) {
    let registers = this.#registers.get(id)
    const applied = []
    for (const [field, value] of Object.entries(fields)) {
      const held = registers?.get(field)
      if (held !== undefined && compareStamps(stamp, held[1]) <= 0) continue
      if (registers === undefined) this.#registers.set(id, (registers = new Map()))
      registers.set(field, [value, stamp])
      applied.push(field)
    }
    return applied
  }

  /** Our own pending change got a new stamp: the fields it still holds take it too. */
  restamp(id, fields, from, to) {
    const registers = this.#registers.get(id)
    for (const field of Object.keys(fields)) {
      const held = registers?.get(field)
      if (held !== undefined && compareStamps(held[1], from) === 0) registers.set(field, [held[0], to])
    }
  }

  /** A sticker of a snapshot: `{id, ...values, stamps}`. */
  load(sticker) {
    for (const [field, stamp] of Object.entries(sticker.stamps)) {
      this.merge(sticker.id, { [field]: sticker[field] }, stamp)
    }
  }

  /** Every sticker as a snapshot gives it (`load` takes it back): `{id, ...values, stamps}`. */
  snapshot() {
    return this.ids().map((id) => {
      const stamps = {}
      for (const [field, [, stamp]] of this.#registers.get(id)) stamps[field] = stamp
      return { id, ...this.values(id), stamps }
    })
  }

  values(id) {
    const current = { ...DEFAULTS }
    for (const [field, [value]] of this.#registers.get(id) ?? []) current[field] = value
    return current
  }

  stamp(id, field) {
    return this.#registers.get(id)?.get(field)?.[1] ?? null
  }

  /** The highest z of the live stickers. */
  topZ() {
    let top = null
    for (const id of this.#registers.keys()) {
      const { z, deleted } = this.values(id)
      if (!deleted && (top === null || z > top)) top = z
    }
    return top
  }
}
