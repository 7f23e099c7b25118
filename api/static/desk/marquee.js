/**
 * Box selection: Shift-drag on the background draws a box; the stickers it touches are selected
 * (added to what was selected).
 */

export class Marquee {
  #start = null

  /** `done(box)`: the box in page coordinates {left, top, right, bottom}. */
  constructor(viewport, element, done) {
    viewport.addEventListener('pointerdown', (event) => {
      if (!event.shiftKey || event.button !== 0 || event.pointerType === 'touch') return
      if (event.target !== viewport && event.target.id !== 'board') return
      this.#start = { x: event.clientX, y: event.clientY, pointer: event.pointerId }
      viewport.setPointerCapture(event.pointerId)
    })
    viewport.addEventListener('pointermove', (event) => {
      if (this.#start?.pointer !== event.pointerId) return
      const box = this.#box(event)
      const frame = viewport.getBoundingClientRect()
      Object.assign(element.style, {
        left: `${box.left - frame.left}px`, top: `${box.top - frame.top}px`,
        width: `${box.right - box.left}px`, height: `${box.bottom - box.top}px`,
      })
      element.hidden = false
    })
    viewport.addEventListener('pointerup', (event) => {
      if (this.#start?.pointer !== event.pointerId) return
      const box = this.#box(event)
      this.#start = null
      element.hidden = true
      done(box)
    })
  }

  /** True while a box is being drawn (the camera does not pan then). */
  get active() {
    return this.#start !== null
  }

  #box(event) {
    return {
      left: Math.min(this.#start.x, event.clientX), top: Math.min(this.#start.y, event.clientY),
      right: Math.max(this.#start.x, event.clientX), bottom: Math.max(this.#start.y, event.clientY),
    }
  }
}
