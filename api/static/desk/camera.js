/**
 * The view onto the board: a pan and a zoom. Drag the background (one finger on touch) or scroll
 * to pan; Ctrl+wheel (a trackpad pinch), a two-finger pinch or the buttons zoom; zoom to fit
 * frames every sticker. Board coordinates are the page's minus the pan, over the zoom.
 */

const MIN_SCALE = 0.1
const MAX_SCALE = 4
const FIT_MARGIN = 48

export class Camera {
  x = 0
  y = 0
  scale = 1
  #pointers = new Map()
  #drag = null
  #pinch = null

  /** `moved()`: the view changed; `wantsPan(event)`: false when a background drag is for
   *  something else (a selection box). */
  constructor(viewport, board, moved, wantsPan = () => true) {
    this.viewport = viewport
    this.board = board
    this.moved = moved
    viewport.addEventListener('pointerdown', (event) => this.#down(event))
    viewport.addEventListener('pointermove', (event) => this.#move(event))
    for (const type of ['pointerup', 'pointercancel']) viewport.addEventListener(type, (event) => this.#up(event))
    viewport.addEventListener('wheel', (event) => {
      event.preventDefault()
      if (event.ctrlKey || event.metaKey) this.zoomAt(event.clientX, event.clientY, Math.exp(-event.deltaY * 0.01))
      else this.#set(this.x - event.deltaX, this.y - event.deltaY, this.scale)
    }, { passive: false })
    this.wantsPan = wantsPan
  }

  get pinching() {
    return this.#pinch !== null
  }

  /** Board coordinates of a point on the page. */
  boardPoint(clientX, clientY) {
    const box = this.viewport.getBoundingClientRect()
    return [Math.round((clientX - box.left - this.x) / this.scale), Math.round((clientY - box.top - this.y) / this.scale)]
  }

  /** Board coordinates of the middle of the view. */
  centre() {
    const box = this.viewport.getBoundingClientRect()
    return this.boardPoint(box.left + box.width / 2, box.top + box.height / 2)
  }

  /** Zoom by `factor`, the point under (clientX, clientY) staying where it is. */
  zoomAt(clientX, clientY, factor) {
    const box = this.viewport.getBoundingClientRect()
    const scale = clamp(this.scale * factor, MIN_SCALE, MAX_SCALE)
    const px = clientX - box.left
    const py = clientY - box.top
    const k = scale / this.scale
    this.#set(px - (px - this.x) * k, py - (py - this.y) * k, scale)
  }

  zoomBy(factor) {
    const box = this.viewport.getBoundingClientRect()
    this.zoomAt(box.left + box.width / 2, box.top + box.height / 2, factor)
  }

  reset() {
    this.zoomBy(1 / this.scale)
  }

  /** Frame `bounds` ({left, top, right, bottom} on the board); nothing to frame: 100 %. */
  fit(bounds) {
    if (bounds === null) {
      this.#set(0, 0, 1)
      return
    }
    const box = this.viewport.getBoundingClientRect()
    const width = Math.max(1, bounds.right - bounds.left)
    const height = Math.max(1, bounds.bottom - bounds.top)
    const scale = clamp(Math.min((box.width - 2 * FIT_MARGIN) / width, (box.height - 2 * FIT_MARGIN) / height), MIN_SCALE, 1)
    this.#set((box.width - width * scale) / 2 - bounds.left * scale, (box.height - height * scale) / 2 - bounds.top * scale, scale)
  }

  #down(event) {
    this.#pointers.set(event.pointerId, [event.clientX, event.clientY])
    if (this.#pointers.size === 2) {
      this.#drag = null
      const [a, b] = [...this.#pointers.values()]
      this.#pinch = { distance: Math.hypot(a[0] - b[0], a[1] - b[1]), mid: midpoint(a, b) }
      return
    }
    if (event.button !== 0 || !this.wantsPan(event)) return
    if (event.target !== this.viewport && event.target !== this.board) return
    this.#drag = { startX: event.clientX - this.x, startY: event.clientY - this.y, pointer: event.pointerId }
    this.viewport.setPointerCapture(event.pointerId)
  }

  #move(event) {
    if (!this.#pointers.has(event.pointerId)) return
    this.#pointers.set(event.pointerId, [event.clientX, event.clientY])
    if (this.#pinch !== null && this.#pointers.size === 2) {
      const [a, b] = [...this.#pointers.values()]
      const distance = Math.hypot(a[0] - b[0], a[1] - b[1])
      const mid = midpoint(a, b)
      this.#set(this.x + mid[0] - this.#pinch.mid[0], this.y + mid[1] - this.#pinch.mid[1], this.scale)
      if (this.#pinch.distance > 0) this.zoomAt(mid[0], mid[1], distance / this.#pinch.distance)
      this.#pinch = { distance, mid }
    } else if (this.#drag?.pointer === event.pointerId) {
      this.#set(event.clientX - this.#drag.startX, event.clientY - this.#drag.startY, this.scale)
    }
  }

  #up(event) {
    this.#pointers.delete(event.pointerId)
    if (this.#pointers.size < 2) this.#pinch = null
    if (this.#drag?.pointer === event.pointerId) this.#drag = null
  }

  #set(x, y, scale) {
    // Kept exact (a pinch's many small steps would add up their rounding and drift away from
    // the fingers); drawn on whole pixels, crisp.
    this.x = x
    this.y = y
    this.scale = scale
    this.board.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px) scale(${scale})`
    this.moved()
  }
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value))
}

function midpoint(a, b) {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2]
}
