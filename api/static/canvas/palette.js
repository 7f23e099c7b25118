/** The colour bar: one button per palette entry; the choice is remembered. */

const KEY = 'tessera.colour'

export class Palette {
  /** The chosen palette index, or null. */
  selected = null

  constructor(root, colours, onChange) {
    this.root = root
    this.onChange = onChange
    this.setColours(colours)
  }

  /** Another palette (a new game): the remembered choice is kept where the new one has it. */
  setColours(colours) {
    this.selected = null
    this.buttons = colours.map((hex, index) => {
      const button = document.createElement('button')
      button.type = 'button'
      button.className = 'swatch'
      button.style.setProperty('--colour', hex)
      button.title = hex
      button.setAttribute('aria-label', `Colour ${index + 1}, ${hex}`)
      button.setAttribute('aria-pressed', 'false')
      button.dataset.colour = String(index)
      button.addEventListener('click', () => this.choose(index))
      return button
    })
    this.root.replaceChildren(...this.buttons)
    const remembered = Number(localStorage.getItem(KEY))
    if (Number.isInteger(remembered) && remembered >= 0 && remembered < colours.length) {
      this.choose(remembered)
    }
  }

  choose(index) {
    this.selected = index
    this.buttons.forEach((button, i) => button.setAttribute('aria-pressed', String(i === index)))
    try {
      localStorage.setItem(KEY, String(index))
    } catch {
      // not remembered; still chosen
    }
    this.onChange()
  }
}
