/**
 * Collision notices: a change of ours lost to one we never saw. Each notice offers "Kept theirs"
 * (dismiss) and "Restore mine" (send our lost value again, as a new change).
 */

const LABELS = { text: 'text', colour: 'colour', deleted: 'deletion' }

export class Collisions {
  /** Notices on screen: `{sticker, field, lost, winner}`. */
  shown = []

  constructor(list, restore) {
    this.list = list
    this.restore = restore
  }

  add(collision) {
    const notice = {
      sticker: collision.sticker, field: collision.field, lost: collision.lost, winner: collision.winner,
    }
    // A newer notice about the same field replaces the older one.
    const old = this.shown.findIndex((n) => n.sticker === notice.sticker && n.field === notice.field)
    if (old >= 0) this.#dismiss(this.shown[old])
    this.shown.push(notice)
    notice.element = this.#render(notice)
    this.list.append(notice.element)
  }

  #render(notice) {
    const item = document.createElement('li')
    item.className = 'notice'
    item.setAttribute('role', 'alert')
    const what = LABELS[notice.field] ?? notice.field
    const text = document.createElement('p')
    text.textContent = `Someone else changed this sticker's ${what}: ${describe(notice.winner)} replaced yours (${describe(notice.lost)}).`
    const kept = button('Kept theirs', () => this.#dismiss(notice))
    const mine = button('Restore mine', () => {
      this.#dismiss(notice)
      this.restore(notice)
    })
    item.append(text, kept, mine)
    return item
  }

  #dismiss(notice) {
    notice.element?.remove()
    this.shown = this.shown.filter((n) => n !== notice)
  }
}

function button(label, onClick) {
  const element = document.createElement('button')
  element.type = 'button'
  element.textContent = label
  element.addEventListener('click', onClick)
  return element
}

function describe(value) {
  if (typeof value === 'boolean') return value ? 'deleted' : 'kept'
  const text = String(value)
  return `“${text.length > 40 ? `${text.slice(0, 40)}…` : text}”`
}
