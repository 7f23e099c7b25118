/**
 * The board is large and pannable: drag the background (or scroll) to pan. Board coordinates
 * are the page's minus the pan.
 */

export class Pan {
  x = 0
  y = 0
  #drag = null

  constructor(viewport, board, moved) {
    this.viewport = viewport
    this.board = board
    this.moved = moved
    viewport.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return
      this.#drag = { startX: event.clientX - this.x, startY: event.clientY - this.y, pointer: event.pointerId }
      viewport.setPointerCapture(event.pointerId)
    })
    viewport.addEventListener('pointermove', (event) => {
      if (this.#drag?.pointer !== event.pointerId) return
      this.#set(event.clientX - this.#drag.startX, event.clientY - this.#drag.startY)
    })
    const stop = () => { this.#drag = null }
    viewport.addEventListener('pointerup', stop)
    viewport.addEventListener('pointercancel', stop)
    viewport.addEventListener('wheel', (event) => {
      event.preventDefault()
      this.#set(this.x - event.deltaX, this.y - event.deltaY)
    }, { passive: false })
  }

  /** Board coordinates of a point on the page. */
  boardPoint(clientX, clientY) {
    const box = this.viewport.getBoundingClientRect()
    return [Math.round(clientX - box.left - this.x), Math.round(clientY - box.top - this.y)]
  }

  /** Board coordinates of the middle of the view. */
  centre() {
    const box = this.viewport.getBoundingClientRect()
    return this.boardPoint(box.left + box.width / 2, box.top + box.height / 2)
  }

  #set(x, y) {
    this.x = Math.round(x)
    this.y = Math.round(y)
    this.board.style.transform = `translate(${this.x}px, ${this.y}px)`
    this.moved()
  }
}
