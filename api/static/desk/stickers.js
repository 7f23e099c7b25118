/**
 * Stickers on the board: absolutely positioned elements, stacked by their z keys, growing with
 * their text; drag to move (the whole selection; only the drop is a change, the way there is
 * presence), drag the corner to resize, double-click to edit the text (Enter or leaving the field
 * commits it), click to select, Shift-click to add to the selection or take one out.
 */

import { stackOrder } from './zorder.js'

const MOVED_PX = 3
const MIN_SIDE = 40

export class StickerLayer {
  /** The sticker the tools act on (the last one picked), or null. */
  selected = null
  /** Every selected sticker. */
  selection = new Set()
  editing = null
  #elements = new Map()
  #gesture = null

  /** `on`: {moved([[id, x, y]…]), dragging(id, x, y), resized(id, w, h), edited(id, text),
   *  selected()}; `scale()`: the view's zoom. */
  constructor(board, on, scale = () => 1) {
    this.board = board
    this.on = on
    this.scale = scale
  }

  render(replica, remoteDrags) {
    const live = replica.ids().map((id) => ({ id, ...replica.values(id) })).filter((s) => !s.deleted)
    const dragged = new Map([...remoteDrags.values()].map((drag) => [drag.sticker, drag]))
    const seen = new Set()
    stackOrder(live).forEach((sticker, rank) => {
      seen.add(sticker.id)
      const element = this.#elements.get(sticker.id) ?? this.#create(sticker.id)
      const local = this.#gesture?.moving?.get(sticker.id) ?? null
      const remote = dragged.get(sticker.id)
      const x = local?.x ?? remote?.x ?? sticker.x
      const y = local?.y ?? remote?.y ?? sticker.y
      element.style.transform = `translate(${x}px, ${y}px)`
      const resizing = this.#gesture?.kind === 'resize' && this.#gesture.id === sticker.id ? this.#gesture : null
      element.style.width = `${resizing?.w ?? sticker.w}px`
      element.style.minHeight = `${resizing?.h ?? sticker.h}px`
      element.style.background = sticker.colour
      element.style.zIndex = String(rank + 1)
      element.classList.toggle('moving-elsewhere', remote !== undefined && local === null)
      element.classList.toggle('selected', this.selection.has(sticker.id))
      const text = element.firstElementChild
      if (this.editing !== sticker.id && text.textContent !== sticker.text) text.textContent = sticker.text
    })
    for (const [id, element] of this.#elements) {
      if (seen.has(id)) continue
      element.remove()
      this.#elements.delete(id)
      if (this.selection.has(id)) this.#pick([...this.selection].filter((other) => other !== id))
    }
  }

  /** Select only `id` (null: nothing). */
  select(id) {
    this.#pick(id === null ? [] : [id])
  }

  /** Select exactly these. */
  selectAll(ids) {
    this.#pick(ids)
  }

  /** Shift-click: in or out of the selection. */
  toggle(id) {
    this.#pick(this.selection.has(id) ? [...this.selection].filter((other) => other !== id) : [...this.selection, id])
  }

  element(id) {
    return this.#elements.get(id) ?? null
  }

  /** The board's ids of the stickers drawn, with their boxes in board coordinates. */
  boxes() {
    return [...this.#elements].map(([id, element]) => {
      const [x, y] = position(element)
      return { id, left: x, top: y, right: x + element.offsetWidth, bottom: y + element.offsetHeight }
    })
  }

  edit(id) {
    const element = this.#elements.get(id)
    if (element === undefined || this.editing === id) return
    const text = element.firstElementChild
    const before = text.textContent
    this.editing = id
    element.classList.add('editing')
    text.contentEditable = 'plaintext-only'
    text.focus()
    getSelection().selectAllChildren(text)
    const finish = () => {
      text.removeEventListener('keydown', keys)
      text.contentEditable = 'false'
      element.classList.remove('editing')
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

  #pick(ids) {
    this.selection = new Set(ids)
    this.selected = ids.length === 0 ? null : ids.at(-1)
    for (const [id, element] of this.#elements) element.classList.toggle('selected', this.selection.has(id))
    this.on.selected()
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
    if (event.shiftKey) {
      this.toggle(id)
      return
    }
    if (!this.selection.has(id)) this.select(id)
    else if (this.selected !== id) this.#pick([...[...this.selection].filter((other) => other !== id), id])
    const element = this.#elements.get(id)
    const kind = event.target.classList.contains('resize') ? 'resize' : 'move'
    const starts = new Map([...this.selection].map((other) => [other, position(this.#elements.get(other))]))
    this.#gesture = {
      id, kind, startX: event.clientX, startY: event.clientY, starts,
      w0: element.offsetWidth, h0: element.offsetHeight, moved: false, pointer: event.pointerId, moving: null,
    }
    element.setPointerCapture(event.pointerId)
  }

  #move(event) {
    const g = this.#gesture
    if (g === null || event.pointerId !== g.pointer) return
    const dx = (event.clientX - g.startX) / this.scale()
    const dy = (event.clientY - g.startY) / this.scale()
    if (!g.moved && Math.hypot(dx, dy) * this.scale() < MOVED_PX) return
    g.moved = true
    if (g.kind === 'move') {
      g.moving = new Map([...g.starts].map(([id, [x0, y0]]) => [id, { x: Math.round(x0 + dx), y: Math.round(y0 + dy) }]))
      for (const [id, { x, y }] of g.moving) {
        const element = this.#elements.get(id)
        if (element !== undefined) element.style.transform = `translate(${x}px, ${y}px)`
      }
      const mine = g.moving.get(g.id)
      this.on.dragging(g.id, mine.x, mine.y)
    } else {
      g.w = Math.max(MIN_SIDE, Math.round(g.w0 + dx))
      g.h = Math.max(MIN_SIDE, Math.round(g.h0 + dy))
      const element = this.#elements.get(g.id)
      element.style.width = `${g.w}px`
      element.style.minHeight = `${g.h}px`
    }
  }

  #end(event) {
    const g = this.#gesture
    if (g === null || event.pointerId !== g.pointer) return
    this.#gesture = null
    if (!g.moved) return
    if (g.kind === 'move') this.on.moved([...g.moving].map(([id, { x, y }]) => [id, x, y]))
    else this.on.resized(g.id, g.w, g.h)
  }

  #cancel() {
    this.#gesture = null
  }
}

function position(element) {
  return element.style.transform.match(/-?[\d.]+/g).map(Number)
}
