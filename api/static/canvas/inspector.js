/**
 * The pixel inspector: who painted the selected pixel last, and when. Its read model follows the
 * board within a moment, so when the two disagree on the colour it asks again a little later.
 */

import { getJson } from '../api.js'

const RETRIES = 5
const RETRY_MS = 300

export class Inspector {
  #at = null
  #asked = 0
  #shown = null
  #retries = 0
  #timer = 0

  constructor(root, canvas, board) {
    this.root = root
    this.setCanvas(canvas, board)
    this.place = root.querySelector('[data-field="place"]')
    this.swatch = root.querySelector('[data-field="swatch"]')
    this.who = root.querySelector('[data-field="who"]')
    this.when = root.querySelector('[data-field="when"]')
    root.querySelector('[data-action="close"]').addEventListener('click', () => this.hide())
  }

  /** Another canvas (a new game): the details of the old one go. */
  setCanvas(canvas, board) {
    this.hide()
    this.#shown = null
    this.base = `/api/canvas/${canvas.id}`
    this.palette = canvas.palette
    this.board = board
  }

  show(x, y) {
    this.#at = { x, y }
    this.#retries = 0
    this.root.hidden = false
    this.place.textContent = `(${x}, ${y})`
    this.#paintSwatch(this.board.pixel(x, y))
    this.who.textContent = 'Looking…'
    this.when.textContent = ''
    this.#ask()
  }

  hide() {
    this.#at = null
    this.#asked++
    clearTimeout(this.#timer)
    this.root.hidden = true
  }

  /** The board changed: if the selected pixel now differs from what we show, ask again. */
  boardChanged() {
    const at = this.#at
    if (at === null || this.#shown === null) return
    const colour = this.board.pixel(at.x, at.y)
    this.#paintSwatch(colour)
    if (colour !== this.#shown.colour && !this.#timer) {
      this.#retries = 0
      this.#later()
    }
  }

  async #ask() {
    clearTimeout(this.#timer)
    this.#timer = 0
    const at = this.#at
    const asked = ++this.#asked
    let pixel
    try {
      pixel = await getJson(`${this.base}/pixels/${at.x}/${at.y}`)
    } catch {
      if (asked === this.#asked) this.who.textContent = 'Not available right now.'
      return
    }
    if (asked !== this.#asked) return // another pixel was selected meanwhile
    this.#shown = pixel
    this.#render(pixel)
    if (pixel.colour !== this.board.pixel(at.x, at.y)) this.#later()
  }

  #later() {
    if (this.#retries >= RETRIES) return
    const delay = RETRY_MS * 2 ** this.#retries++
    this.#timer = setTimeout(() => this.#ask(), delay)
  }

  #render(pixel) {
    if (pixel.user === null) {
      this.who.textContent = 'Nobody has painted this pixel yet.'
      this.when.textContent = ''
      return
    }
    this.who.textContent = `Placed by ${pixel.name ?? 'a player'}`
    if (pixel.placed_at) {
      const placed = new Date(pixel.placed_at)
      const time = document.createElement('time')
      time.dateTime = placed.toISOString()
      time.title = placed.toLocaleString()
      time.textContent = ago(placed)
      this.when.replaceChildren(time, pixel.version ? ` · version ${pixel.version}` : '')
    } else {
      this.when.textContent = ''
    }
  }

  #paintSwatch(colour) {
    const hex = this.palette[colour] ?? 'transparent'
    this.swatch.style.setProperty('--colour', hex)
    this.swatch.title = hex
  }
}

function ago(date) {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000)
  const units = [['day', 86_400], ['hour', 3_600], ['minute', 60]]
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(-Math.round(seconds / size), unit)
  }
  return seconds < 10 ? 'just now' : format.format(-seconds, 'second')
}
