/**
 * Stickers on the board: absolutely positioned elements, stacked by their z keys; drag to move
 * (only the drop is a change, the way there is presence), drag the corner to resize, double-click
 * to edit the text (Enter or leaving the field commits it), click to select.
 */

import { stackOrder } from './zorder.js'

const MOVED_PX = 3
const MIN_SIDE = 40

export class StickerLayer {
  selected = null
  editing = null
  #elements = new Map()
  #gesture = null

  /** `on`: {moved(id, x, y), dragging(id, x, y), resized(id, w, h), edited(id, text), selected(id)} */
  constructor(board, on) {
    this.board = board
    this.on = on
  }

  render(replica, remoteDrags) {
    const live = replica.ids().map((id) => ({ id, ...replica.values(id) })).filter((s) => !s.deleted)
    const dragged = new Map([...remoteDrags.values()].map((drag) => [drag.sticker, drag]))
    const seen = new Set()
    stackOrder(live).forEach((sticker, rank) => {
      seen.add(sticker.id)
      const element = this.#elements.get(sticker.id) ?? this.#create(sticker.id)
      const local = this.#gesture?.id === sticker.id ? this.#gesture : null
      const remote = dragged.get(sticker.id)
      const x = local?.x ?? remote?.x ?? sticker.x
      const y = local?.y ?? remote?.y ?? sticker.y
      element.style.transform = `translate(${x}px, ${y}px)`
      element.style.width = `${local?.w ?? sticker.w}px`
      element.style.height = `${local?.h ?? sticker.h}px`
      element.style.background = sticker.colour
      element.style.zIndex = String(rank + 1)
      element.classList.toggle('moving-elsewhere', remote !== undefined && local === null)
      const text = element.firstElementChild
      if (this.editing !== sticker.id && text.textContent !== sticker.text) text.textContent = sticker.text
    })
    for (const [id, element] of this.#elements) {
      if (seen.has(id)) continue
      element.remove()
      this.#elements.delete(id)
      if (this.selected === id) this.select(null)
    }
  }

  select(id) {
    if (this.selected !== null) this.#elements.get(this.selected)?.classList.remove('selected')
    this.selected = id
    if (id !== null) this.#elements.get(id)?.classList.add('selected')
    this.on.selected(id)
  }

  element(id) {
    return this.#elements.get(id) ?? null
  }

  edit(id) {
    const element = this.#elements.get(id)
    if (element === undefined) return
    const text = element.firstElementChild
    const before = text.textContent
    this.editing = id
    text.contentEditable = 'plaintext-only'
    text.focus()
    getSelection().selectAllChildren(text)
    const finish = () => {
      text.removeEventListener('keydown', keys)
      text.contentEditable = 'false'
      this.editing = null
      if (text.textContent !== before) this.on.edited(id, text.textContent)
    }
    const keys = (event) => {
      event.stopPropagation()
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault()
        text.blur()
      } else if (event.key === 'Escape') {
        text.textContent = before
        text.blur()
      }
    }
    text.addEventListener('keydown', keys)
    text.addEventListener('blur', finish, { once: true })
  }

  #create(id) {
    const element = document.createElement('div')
    element.className = 'sticker'
    element.dataset.id = id
    element.setAttribute('role', 'note')
    const text = document.createElement('div')
    text.className = 'text'
    const handle = document.createElement('div')
    handle.className = 'resize'
    handle.title = 'Drag to resize'
    element.append(text, handle)
    element.addEventListener('pointerdown', (event) => this.#start(event, id))
    element.addEventListener('pointermove', (event) => this.#move(event))
    element.addEventListener('pointerup', (event) => this.#end(event))
    element.addEventListener('pointercancel', () => this.#cancel())
    element.addEventListener('dblclick', (event) => {
      event.stopPropagation()
      this.edit(id)
    })
    this.board.append(element)
    this.#elements.set(id, element)
    return element
  }

  #start(event, id) {
    event.stopPropagation()
    if (event.button !== 0 || this.editing === id) return
    this.select(id)
    const element = this.#elements.get(id)
    const box = element.getBoundingClientRect()
    const [x, y] = element.style.transform.match(/-?[\d.]+/g).map(Number)
    this.#gesture = {
      id, kind: event.target.classList.contains('resize') ? 'resize' : 'move',
      startX: event.clientX, startY: event.clientY, x0: x, y0: y, w0: box.width, h0: box.height,
      moved: false, pointer: event.pointerId,
    }
    element.setPointerCapture(event.pointerId)
  }

  #move(event) {
    const g = this.#gesture
    if (g === null || event.pointerId !== g.pointer) return
    const dx = event.clientX - g.startX
    const dy = event.clientY - g.startY
    if (!g.moved && Math.hypot(dx, dy) < MOVED_PX) return
    g.moved = true
    const element = this.#elements.get(g.id)
    if (g.kind === 'move') {
      g.x = Math.round(g.x0 + dx)
      g.y = Math.round(g.y0 + dy)
      element.style.transform = `translate(${g.x}px, ${g.y}px)`
      this.on.dragging(g.id, g.x, g.y)
    } else {
      g.w = Math.max(MIN_SIDE, Math.round(g.w0 + dx))
      g.h = Math.max(MIN_SIDE, Math.round(g.h0 + dy))
      element.style.width = `${g.w}px`
      element.style.height = `${g.h}px`
    }
  }

  #end(event) {
    const g = this.#gesture
    if (g === null || event.pointerId !== g.pointer) return
    this.#gesture = null
    if (!g.moved) return
    if (g.kind === 'move') this.on.moved(g.id, g.x, g.y)
    else this.on.resized(g.id, g.w, g.h)
  }

  #cancel() {
    this.#gesture = null
  }
}
