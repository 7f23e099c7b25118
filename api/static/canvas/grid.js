/** An optional grid over the board, drawn in screen space once a board pixel is big enough to
 *  aim at (at least `MIN_SCALE` screen pixels); the choice is remembered. */

const KEY = 'tessera.grid'
const MIN_SCALE = 8

export class Grid {
  #on = false

  constructor(canvas, toggle, view) {
    this.canvas = canvas
    this.toggle = toggle
    this.view = view
    try {
      this.#on = localStorage.getItem(KEY) === 'on'
    } catch {
      // storage refused: off
    }
    toggle.addEventListener('click', () => this.set(!this.#on))
    this.draw()
  }

  get on() {
    return this.#on
  }

  /** Whether lines are drawn now (on, and zoomed in far enough). */
  get shown() {
    return !this.canvas.hidden
  }

  set(on) {
    this.#on = on
    try {
      localStorage.setItem(KEY, on ? 'on' : 'off')
    } catch {
      // only this page remembers
    }
    this.draw()
  }

  draw() {
    this.toggle.setAttribute('aria-pressed', String(this.#on))
    const { matrix: m, width, height } = this.view.drawn
    const scale = Math.hypot(m.a, m.b)
    const visible = this.#on && scale >= MIN_SCALE && width > 0
    this.canvas.hidden = !visible
    if (!visible) return
    const ratio = devicePixelRatio || 1
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio)
      this.canvas.height = Math.round(height * ratio)
      this.canvas.style.width = `${width}px`
      this.canvas.style.height = `${height}px`
    }
    const context = this.canvas.getContext('2d')
    context.setTransform(ratio, 0, 0, ratio, 0, 0)
    context.clearRect(0, 0, width, height)
    const board = this.view
    const left = Math.max(0, Math.floor(-m.e / scale))
    const top = Math.max(0, Math.floor(-m.f / scale))
    const right = Math.min(board.width, Math.ceil((width - m.e) / scale))
    const bottom = Math.min(board.height, Math.ceil((height - m.f) / scale))
    context.beginPath()
    for (let x = left; x <= right; x++) {
      const sx = Math.round(m.e + x * scale) + 0.5
      context.moveTo(sx, m.f + top * scale)
      context.lineTo(sx, m.f + bottom * scale)
    }
    for (let y = top; y <= bottom; y++) {
      const sy = Math.round(m.f + y * scale) + 0.5
      context.moveTo(m.e + left * scale, sy)
      context.lineTo(m.e + right * scale, sy)
    }
    context.strokeStyle = 'rgba(0, 0, 0, 0.22)'
    context.lineWidth = 1
    context.stroke()
  }
}
