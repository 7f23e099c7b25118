/** The colour bar: one button per palette entry. Nothing is chosen until the player picks a
 *  colour, so a stray tap can never paint (white, say) by accident. */

export class Palette {
  /** The chosen palette index, or null. */
  selected = null

  constructor(root, colours, onChange) {
    this.root = root
    this.onChange = onChange
    this.setColours(colours)
  }

  /** Another palette (a new game): nothing chosen. */
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
    this.colours = colours
    this.root.replaceChildren(...this.buttons)
    this.onChange()
  }

  /** The chosen colour as `#rrggbb`, or null. */
  get hex() {
    return this.selected === null ? null : this.colours[this.selected]
  }

  choose(index) {
    this.selected = index
    this.buttons.forEach((button, i) => button.setAttribute('aria-pressed', String(i === index)))
    this.onChange()
  }
}
