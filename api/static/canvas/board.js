/** The client's copy of the canvas: one palette index per pixel, painted into an ImageData. */

import { RESET } from './delta.js'

const MAX_COLOURS = 32

export class Board {
  /** The canvas version this copy shows; null until the first snapshot arrived. */
  version = null
  #dirty = null

  constructor(canvas, { width, height, palette }, onChange) {
    this.width = width
    this.height = height
    this.palette = palette
    this.pixels = new Uint8Array(width * height)
    canvas.width = width
    canvas.height = height
    this.context = canvas.getContext('2d')
    this.image = this.context.createImageData(width, height)
    this.words = new Uint32Array(this.image.data.buffer)
    this.colours = coloursOf(palette)
    this.onChange = onChange
  }

  pixel(x, y) {
    if (!this.contains(x, y)) return undefined
    return this.pixels[y * this.width + x]
  }

  contains(x, y) {
    return Number.isInteger(x) && Number.isInteger(y) && x >= 0 && y >= 0 &&
      x < this.width && y < this.height
  }

  /** The whole board at `version`: one byte per pixel, row by row. */
  load(bytes, version) {
    if (bytes.length !== this.pixels.length) {
      throw new Error(`a snapshot of ${bytes.length} bytes for a ${this.width}×${this.height} board`)
    }
    this.pixels.set(bytes)
    const { words, colours } = this
    for (let i = 0; i < bytes.length; i++) words[i] = colours[bytes[i]]
    this.version = version
    this.#touch(0, 0, this.width - 1, this.height - 1)
  }

  /** Repaint with a delta's entries, in order (later entries win), and take its `to` version. */
  apply({ to, entries }) {
    const { pixels, words, colours, width } = this
    const size = pixels.length
    let x0 = width, y0 = this.height, x1 = -1, y1 = -1
    for (const entry of entries) {
      if (entry === RESET) {
        pixels.fill(0)
        words.fill(colours[0])
        x0 = 0; y0 = 0; x1 = width - 1; y1 = this.height - 1
        continue
      }
      const index = entry >>> 5
      if (index >= size) continue
      const colour = entry & 31
      pixels[index] = colour
      words[index] = colours[colour]
      const x = index % width
      const y = (index - x) / width
      if (x < x0) x0 = x
      if (x > x1) x1 = x
      if (y < y0) y0 = y
      if (y > y1) y1 = y
    }
    this.version = to
    if (x1 >= 0) this.#touch(x0, y0, x1, y1)
    else this.onChange()
  }

  /** Copy what changed since the last frame onto the canvas. */
  draw() {
    const dirty = this.#dirty
    if (dirty === null) return
    this.#dirty = null
    const [x0, y0, x1, y1] = dirty
    this.context.putImageData(this.image, 0, 0, x0, y0, x1 - x0 + 1, y1 - y0 + 1)
  }

  #touch(x0, y0, x1, y1) {
    const dirty = this.#dirty
    this.#dirty = dirty === null ? [x0, y0, x1, y1] : [
      Math.min(dirty[0], x0), Math.min(dirty[1], y0), Math.max(dirty[2], x1), Math.max(dirty[3], y1),
    ]
    this.onChange()
  }
}

/** Palette entries as ImageData words (RGBA bytes in memory order, read as one u32). */
function coloursOf(palette) {
  const bytes = new Uint8ClampedArray(MAX_COLOURS * 4)
  for (let i = 0; i < MAX_COLOURS; i++) {
    const hex = palette[i] ?? '#000000'
    bytes[4 * i] = parseInt(hex.slice(1, 3), 16)
    bytes[4 * i + 1] = parseInt(hex.slice(3, 5), 16)
    bytes[4 * i + 2] = parseInt(hex.slice(5, 7), 16)
    bytes[4 * i + 3] = 255
  }
  return new Uint32Array(bytes.buffer)
}
