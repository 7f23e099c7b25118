/**
 * Pan and zoom: the board canvas is drawn through one affine matrix (screen = M · board), driven by
 * the wheel (about the cursor), dragging, two-finger pinch and pan, and the keyboard. A click or
 * tap that did not move selects the pixel under it.
 */

const MAX_SCALE = 64 // screen pixels per board pixel
const TAP_SLOP_PX = 6
const EASE = 0.3 // share of the way to the target per frame, for wheel and keyboard zoom
const KEY_PAN_PX = 60
const KEY_ZOOM = 1.5

export class View {
  /** The selected board pixel `{x, y}`, or null. */
  selected = null
  /** Called with the board pixel under a hovering pointer, or null once it leaves the board. */
  onHover = () => {}
  /** Called after the view moved or zoomed (a frame was drawn). */
  onMove = () => {}
  #matrix = new DOMMatrix()
  #target = new DOMMatrix()
  #frame = 0
  #pointers = new Map()
  #gesture = null
  #size = { width: 0, height: 0 }

  constructor({ viewport, canvas, reticle }, { width, height }, onSelect) {
    this.viewport = viewport
    this.canvas = canvas
    this.reticle = reticle
    this.width = width
    this.height = height
    this.onSelect = onSelect
    viewport.addEventListener('pointerdown', (event) => this.#down(event))
    viewport.addEventListener('pointermove', (event) => this.#move(event))
    viewport.addEventListener('pointerup', (event) => this.#up(event))
    viewport.addEventListener('pointercancel', (event) => this.#lift(event))
    viewport.addEventListener('pointerleave', () => this.onHover(null))
    viewport.addEventListener('wheel', (event) => this.#wheel(event), { passive: false })
    viewport.addEventListener('keydown', (event) => this.#key(event))
    // Fit now, not when the observer first reports: a gesture made before that report would be
    // undone by the first fit.
    this.#resized()
    new ResizeObserver(() => this.#resized()).observe(viewport)
  }

  /** Another board (a new game): its size, nothing selected, the whole of it in view. */
  setBoard({ width, height }) {
    this.width = width
    this.height = height
    this.selected = null
    this.fit()
  }

  get scale() {
    return Math.hypot(this.#target.a, this.#target.b)
  }

  /** The whole board, centred, as large as fits. */
  fit() {
    const { width, height } = this.#size
    if (width === 0 || height === 0) return
    const scale = Math.min(MAX_SCALE, 0.94 * Math.min(width / this.width, height / this.height))
    const matrix = new DOMMatrix()
      .translate((width - this.width * scale) / 2, (height - this.height * scale) / 2)
      .scale(scale)
    this.#set(matrix, true)
  }

  /** Zoom by `factor` about the viewport point (x, y), which stays where it is. */
  zoomAt(factor, x, y, { smooth = false } = {}) {
    const scale = this.scale
    const bounded = Math.min(MAX_SCALE, Math.max(this.#minScale(), scale * factor)) / scale
    const matrix = new DOMMatrix().translate(x, y).scale(bounded).translate(-x, -y)
    this.#set(matrix.multiply(this.#target), !smooth)
  }

  /** Board pixel (x, y) in the middle of the view at `scale` screen pixels per board pixel. */
  centerOn(x, y, scale) {
    const { width, height } = this.#size
    const bounded = Math.min(MAX_SCALE, Math.max(this.#minScale(), scale))
    const matrix = new DOMMatrix()
      .translate(width / 2 - (x + 0.5) * bounded, height / 2 - (y + 0.5) * bounded)
      .scale(bounded)
    this.#set(matrix, true)
  }

  /** The board point in the middle of the view, and the zoom: what a shared link keeps. */
  get place() {
    const { width, height } = this.#size
    const point = this.#target.inverse().transformPoint(new DOMPoint(width / 2, height / 2))
    return { x: Math.floor(point.x), y: Math.floor(point.y), zoom: this.scale }
  }

  /** The matrix drawn now (screen = M · board), and the viewport's size: for overlays. */
  get drawn() {
    return { matrix: this.#matrix, ...this.#size }
  }

  panBy(dx, dy) {
    this.#set(new DOMMatrix().translate(dx, dy).multiply(this.#target), true)
  }

  /** The board pixel under a viewport point, or null off the board. */
  pixelAt(x, y) {
    const point = this.#matrix.inverse().transformPoint(new DOMPoint(x, y))
    const px = Math.floor(point.x)
    const py = Math.floor(point.y)
    return px >= 0 && py >= 0 && px < this.width && py < this.height ? { x: px, y: py } : null
  }

  /** The centre of a board pixel in page coordinates (where to click it). */
  pointOf(x, y) {
    const box = this.viewport.getBoundingClientRect()
    const point = this.#target.transformPoint(new DOMPoint(x + 0.5, y + 0.5))
    return { x: box.left + point.x, y: box.top + point.y }
  }

  select(x, y) {
    this.selected = { x, y }
    this.#schedule()
    this.onSelect(x, y)
  }

  #set(matrix, immediate) {
    this.#target = this.#kept(matrix)
    if (immediate) this.#matrix = DOMMatrix.fromMatrix(this.#target)
    this.#schedule()
  }

  /** The matrix moved back just enough that some of the board stays in view. */
  #kept(matrix) {
    const { width, height } = this.#size
    const left = matrix.e
    const right = matrix.e + this.width * matrix.a
    const top = matrix.f
    const bottom = matrix.f + this.height * matrix.d
    const margin = Math.min(48, (right - left) / 2, (bottom - top) / 2)
    let dx = 0
    let dy = 0
    if (right < margin) dx = margin - right
    else if (left > width - margin) dx = width - margin - left
    if (bottom < margin) dy = margin - bottom
    else if (top > height - margin) dy = height - margin - top
    return dx || dy ? new DOMMatrix().translate(dx, dy).multiply(matrix) : matrix
  }

  #minScale() {
    const { width, height } = this.#size
    return Math.min(1, 0.25 * Math.min(width / this.width, height / this.height))
  }

  #schedule() {
    this.#frame ||= requestAnimationFrame(() => this.#render())
  }

  #render() {
    this.#frame = 0
    const from = this.#matrix
    const to = this.#target
    const close = Math.abs(to.a - from.a) < 1e-3 * to.a &&
      Math.abs(to.e - from.e) < 0.1 && Math.abs(to.f - from.f) < 0.1
    if (close) {
      this.#matrix = DOMMatrix.fromMatrix(to)
    } else {
      // Both matrices keep the zoom's anchor in place, so every blend of the two does too.
      const blend = (a, b) => a + (b - a) * EASE
      this.#matrix = new DOMMatrix([
        blend(from.a, to.a), blend(from.b, to.b), blend(from.c, to.c),
        blend(from.d, to.d), blend(from.e, to.e), blend(from.f, to.f),
      ])
      this.#schedule()
    }
    const m = this.#matrix
    this.canvas.style.transform = `matrix(${m.a}, ${m.b}, ${m.c}, ${m.d}, ${m.e}, ${m.f})`
    this.#placeReticle()
    this.onMove()
  }

  #placeReticle() {
    const selected = this.selected
    this.reticle.hidden = selected === null
    if (selected === null) return
    const m = this.#matrix
    const corner = m.transformPoint(new DOMPoint(selected.x, selected.y))
    const size = Math.max(4, Math.hypot(m.a, m.b))
    const offset = (size - Math.hypot(m.a, m.b)) / 2
    this.reticle.style.transform = `translate(${corner.x - offset}px, ${corner.y - offset}px)`
    this.reticle.style.width = this.reticle.style.height = `${size}px`
  }

  #resized() {
    const box = this.viewport.getBoundingClientRect()
    const before = this.#size
    this.#size = { width: box.width, height: box.height }
    if (before.width === 0 || before.height === 0) {
      this.fit()
    } else {
      // Keep what was in the middle in the middle.
      this.panBy((box.width - before.width) / 2, (box.height - before.height) / 2)
    }
  }

  #point(event) {
    const box = this.viewport.getBoundingClientRect()
    return { x: event.clientX - box.left, y: event.clientY - box.top }
  }

  #down(event) {
    if (event.pointerType === 'mouse' && event.button !== 0) return
    try {
      this.viewport.setPointerCapture(event.pointerId) // keep following a drag that leaves the view
    } catch {
      // a pointer the browser no longer tracks: nothing to capture
    }
    const point = this.#point(event)
    this.#pointers.set(event.pointerId, point)
    if (this.#pointers.size === 1) this.#gesture = { start: point, moved: false }
    else if (this.#gesture !== null) this.#gesture.moved = true // a second finger: never a tap
  }

  #move(event) {
    const previous = this.#pointers.get(event.pointerId)
    if (previous === undefined || this.#gesture === null) {
      if (event.pointerType === 'mouse') {
        const point = this.#point(event)
        this.onHover(this.pixelAt(point.x, point.y))
      }
      return
    }
    const current = this.#point(event)
    if (this.#pointers.size === 1) {
      const start = this.#gesture.start
      if (!this.#gesture.moved && Math.hypot(current.x - start.x, current.y - start.y) < TAP_SLOP_PX) {
        return
      }
      this.#gesture.moved = true
      this.panBy(current.x - previous.x, current.y - previous.y)
    } else {
      const other = [...this.#pointers].find(([id]) => id !== event.pointerId)[1]
      this.#pinch(previous, current, other)
    }
    this.#pointers.set(event.pointerId, current)
  }

  /** One finger moved from `previous` to `current` while `other` stayed: zoom by the change in
   *  their distance, and move their midpoint along. */
  #pinch(previous, current, other) {
    const before = Math.hypot(previous.x - other.x, previous.y - other.y)
    const after = Math.hypot(current.x - other.x, current.y - other.y)
    if (before < 1) return
    const scale = this.scale
    const factor = Math.min(MAX_SCALE, Math.max(this.#minScale(), scale * after / before)) / scale
    const from = { x: (previous.x + other.x) / 2, y: (previous.y + other.y) / 2 }
    const to = { x: (current.x + other.x) / 2, y: (current.y + other.y) / 2 }
    const matrix = new DOMMatrix().translate(to.x, to.y).scale(factor).translate(-from.x, -from.y)
    this.#set(matrix.multiply(this.#target), true)
  }

  #up(event) {
    const gesture = this.#gesture
    if (!this.#lift(event)) return
    if (this.#pointers.size === 0 && gesture !== null && !gesture.moved) {
      const point = this.#point(event)
      const pixel = this.pixelAt(point.x, point.y)
      if (pixel !== null) this.select(pixel.x, pixel.y)
    }
  }

  #lift(event) {
    if (!this.#pointers.delete(event.pointerId)) return false
    if (this.#pointers.size === 0) this.#gesture = null
    return true
  }

  #wheel(event) {
    event.preventDefault()
    const unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? this.#size.height : 1
    // A trackpad pinch arrives as a wheel with ctrlKey and small deltas.
    const delta = event.deltaY * unit * (event.ctrlKey ? 8 : 1)
    const point = this.#point(event)
    this.zoomAt(Math.exp(-delta * 0.0015), point.x, point.y, { smooth: true })
  }

  #key(event) {
    const { width, height } = this.#size
    const moves = {
      ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1],
    }
    const selected = this.selected
    if (event.key in moves && event.shiftKey && selected !== null) {
      // Shift+arrows move the selection one pixel, for keyboards.
      const [dx, dy] = moves[event.key]
      const x = Math.min(this.width - 1, Math.max(0, selected.x + dx))
      const y = Math.min(this.height - 1, Math.max(0, selected.y + dy))
      this.select(x, y)
    } else if (event.key in moves) {
      const [dx, dy] = moves[event.key]
      this.panBy(-dx * KEY_PAN_PX, -dy * KEY_PAN_PX)
    } else if (event.key === 'Enter' || event.key === ' ') {
      const pixel = this.pixelAt(width / 2, height / 2) // the pixel in the middle of the view
      if (pixel !== null) this.select(pixel.x, pixel.y)
    } else if (event.key === '+' || event.key === '=') {
      this.zoomAt(KEY_ZOOM, width / 2, height / 2, { smooth: true })
    } else if (event.key === '-' || event.key === '_') {
      this.zoomAt(1 / KEY_ZOOM, width / 2, height / 2, { smooth: true })
    } else if (event.key === '0') {
      this.fit()
    } else {
      return
    }
    event.preventDefault()
  }
}
