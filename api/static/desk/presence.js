/**
 * Presence: our cursor and drags sent at most 30 times a second (the latest wins), with our name;
 * the others' cursors drawn on the board as arrows in their colour with a name label (the label
 * steps aside over a sticker, so it never hides its text, and fades while the cursor rests), and
 * the list of who is here. Everything of the others is forgotten when we go offline.
 */

const INTERVAL_MS = 34
const HEARTBEAT_MS = 10_000
const IDLE_MS = 2_500
const COLOURS = ['#e8590c', '#1c7ed6', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#e03131', '#5f3dc4']
const ADJECTIVES = ['Quick', 'Calm', 'Bright', 'Bold', 'Kind', 'Keen', 'Sunny', 'Brave', 'Witty', 'Jolly']
const ANIMALS = ['Otter', 'Fox', 'Owl', 'Panda', 'Heron', 'Lynx', 'Koala', 'Puffin', 'Badger', 'Seal']
const NAME_KEY = 'tessera.desk.name'
const ARROW = 'M0 0 L0 16 L4.5 12 L7.5 19 L10 18 L7 11 L13 11 Z'

export function labelOf(clientId) {
  return `Guest ${clientId.slice(0, 4)}`
}

export function colourOf(clientId) {
  let hash = 0
  for (const char of clientId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  return COLOURS[hash % COLOURS.length]
}

/** This browser's name on desks: made up once, kept. */
export function myName() {
  let name = localStorage.getItem(NAME_KEY)
  if (!name) {
    const pick = (list) => list[crypto.getRandomValues(new Uint32Array(1))[0] % list.length]
    name = `${pick(ADJECTIVES)} ${pick(ANIMALS)}`
    try {
      localStorage.setItem(NAME_KEY, name)
    } catch {
      // kept for this page only
    }
  }
  return name
}

export class Presence {
  #pending = null
  #timer = 0
  #last = 0
  #heartbeat = 0
  /** client id -> {element, name, colour, idle} */
  #others = new Map()
  /** client id -> {sticker, x, y} of a drag in progress elsewhere */
  drags = new Map()

  /** `overSticker(x, y)`: whether a board point is on a sticker. */
  constructor({ layer, people, me, send, onDrags, overSticker }) {
    Object.assign(this, { layer, people, me, send, onDrags, overSticker })
    this.#renderPeople()
  }

  /** Our own cursor or drag moved. */
  offer(frame) {
    this.#pending = { ...this.#pending, ...frame }
    if (this.#timer) return
    const wait = Math.max(0, this.#last + INTERVAL_MS - performance.now())
    this.#timer = setTimeout(() => {
      this.#timer = 0
      this.#last = performance.now()
      const pending = this.#pending
      this.#pending = null
      this.send({ ...pending, name: this.me.name })
    }, wait)
  }

  /** The socket is synced: say we are here, and keep saying it while nothing moves. */
  joined() {
    this.offer({})
    clearInterval(this.#heartbeat)
    this.#heartbeat = setInterval(() => this.offer({}), HEARTBEAT_MS)
  }

  /** The socket is gone (offline, reconnecting): nobody else is known to be here any more. */
  left() {
    clearInterval(this.#heartbeat)
    for (const clientId of [...this.#others.keys()]) this.gone({ client_id: clientId })
  }

  received({ client_id: clientId, cursor, drag, name }) {
    let other = this.#others.get(clientId)
    if (other === undefined) {
      other = { element: null, name: name || labelOf(clientId), colour: colourOf(clientId), idle: 0 }
      this.#others.set(clientId, other)
      this.#renderPeople()
    } else if (name && name !== other.name) {
      other.name = name
      if (other.element) other.element.lastElementChild.textContent = name
      this.#renderPeople()
    }
    if (cursor) this.#cursor(clientId, other, cursor)
    const had = this.drags.has(clientId)
    if (drag) this.drags.set(clientId, drag)
    else this.drags.delete(clientId)
    if (had || drag) this.onDrags()
  }

  gone({ client_id: clientId }) {
    const other = this.#others.get(clientId)
    if (other !== undefined) {
      other.element?.remove()
      clearTimeout(other.idle)
      this.#others.delete(clientId)
      this.#renderPeople()
    }
    if (this.drags.delete(clientId)) this.onDrags()
  }

  /** A drag of that sticker ended where we can see it (its op arrived). */
  dropped(stickerId) {
    for (const [clientId, drag] of this.drags) if (drag.sticker === stickerId) this.drags.delete(clientId)
  }

  cursors() {
    return [...this.#others].filter(([, other]) => other.element !== null).map(([clientId]) => clientId)
  }

  here() {
    return [...this.#others.values()].map((other) => other.name)
  }

  #cursor(clientId, other, [x, y]) {
    if (other.element === null) {
      const element = document.createElement('div')
      element.className = 'cursor'
      element.dataset.client = clientId
      element.style.setProperty('--who', other.colour)
      element.innerHTML = `<svg viewBox="0 0 14 20" aria-hidden="true"><path d="${ARROW}"/></svg><span class="label"></span>`
      element.lastElementChild.textContent = other.name
      this.layer.append(element)
      other.element = element
    }
    const element = other.element
    element.style.transform = `translate(${x}px, ${y}px)`
    element.classList.toggle('over-sticker', this.overSticker(x, y))
    element.classList.remove('idle')
    clearTimeout(other.idle)
    other.idle = setTimeout(() => element.classList.add('idle'), IDLE_MS)
  }

  #renderPeople() {
    const items = [[this.me.clientId, `${this.me.name} (you)`, colourOf(this.me.clientId)]]
    for (const [clientId, other] of this.#others) items.push([clientId, other.name, other.colour])
    this.people.replaceChildren(...items.map(([clientId, name, colour]) => {
      const item = document.createElement('li')
      item.className = 'person'
      item.dataset.client = clientId
      item.title = name
      item.style.setProperty('--who', colour)
      item.textContent = initials(name)
      const full = document.createElement('span')
      full.className = 'sr-only'
      full.textContent = name
      item.append(full)
      return item
    }))
  }
}

function initials(name) {
  return name.replace(/\(you\)/, '').trim().split(/\s+/).slice(0, 2).map((word) => word[0] ?? '').join('').toUpperCase()
}
