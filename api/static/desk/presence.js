/**
 * Presence: our cursor and drags sent at most 30 times a second (the latest wins), and the
 * cursors of the others drawn on the board with a label, gone when they leave.
 */

const INTERVAL_MS = 34

export function labelOf(clientId) {
  return `Guest ${clientId.slice(0, 4)}`
}

export class Presence {
  #pending = null
  #timer = 0
  #last = 0
  #cursors = new Map()
  /** client id -> {sticker, x, y} of a drag in progress elsewhere */
  drags = new Map()

  constructor(layer, send, onDrags) {
    this.layer = layer
    this.send = send
    this.onDrags = onDrags
  }

  /** Our own cursor or drag moved. */
  offer(frame) {
    this.#pending = { ...this.#pending, ...frame }
    if (this.#timer) return
    const wait = Math.max(0, this.#last + INTERVAL_MS - performance.now())
    this.#timer = setTimeout(() => {
      this.#timer = 0
      this.#last = performance.now()
      const frame = this.#pending
      this.#pending = null
      this.send(frame)
    }, wait)
  }

  received({ client_id: clientId, cursor, drag }) {
    if (cursor) {
      let element = this.#cursors.get(clientId)
      if (element === undefined) {
        element = document.createElement('div')
        element.className = 'cursor'
        element.dataset.client = clientId
        element.textContent = labelOf(clientId)
        this.layer.append(element)
        this.#cursors.set(clientId, element)
      }
      element.style.transform = `translate(${cursor[0]}px, ${cursor[1]}px)`
    }
    const had = this.drags.has(clientId)
    if (drag) this.drags.set(clientId, drag)
    else this.drags.delete(clientId)
    if (had || drag) this.onDrags()
  }

  gone({ client_id: clientId }) {
    this.#cursors.get(clientId)?.remove()
    this.#cursors.delete(clientId)
    if (this.drags.delete(clientId)) this.onDrags()
  }

  /** A drag of that sticker ended where we can see it (its op arrived). */
  dropped(stickerId) {
    for (const [clientId, drag] of this.drags) if (drag.sticker === stickerId) this.drags.delete(clientId)
  }

  cursors() {
    return [...this.#cursors.keys()]
  }
}
