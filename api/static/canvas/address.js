/** The place and zoom in the address bar (`?x=&y=&zoom=`): read once at load, kept up to date
 *  as the view moves (without adding history), and copied to share. */

const SETTLE_MS = 400

/** `{x, y, zoom}` from the address, or null when it names no place. */
export function placeInAddress() {
  const query = new URLSearchParams(location.search)
  const x = Number.parseInt(query.get('x') ?? '', 10)
  const y = Number.parseInt(query.get('y') ?? '', 10)
  if (!Number.isInteger(x) || !Number.isInteger(y)) return null
  const zoom = Number.parseFloat(query.get('zoom') ?? '')
  return { x, y, zoom: Number.isFinite(zoom) && zoom > 0 ? zoom : null }
}

export class Address {
  #timer = 0
  #following = false

  constructor(view, viewport) {
    this.view = view
    // The address names a place once the person chose one: the first fit leaves it alone.
    const follow = () => {
      this.#following = true
    }
    for (const type of ['pointerdown', 'wheel', 'keydown']) {
      viewport.addEventListener(type, follow, { once: true, passive: true })
    }
    if (placeInAddress() !== null) follow()
  }

  /** The view moved: the address follows once it settles. */
  moved() {
    if (!this.#following) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => history.replaceState(history.state, '', this.link()), SETTLE_MS)
  }

  /** A link to what the view shows now. */
  link() {
    const { x, y, zoom } = this.view.place
    const query = new URLSearchParams(location.search)
    query.set('x', String(x))
    query.set('y', String(y))
    query.set('zoom', String(Math.round(zoom * 10) / 10))
    return `${location.origin}${location.pathname}?${query}`
  }

  /** Copy the link; resolves with what was done (`copied`, or the link to copy by hand). */
  async share() {
    const link = this.link()
    history.replaceState(history.state, '', link)
    try {
      await navigator.clipboard.writeText(link)
      return { copied: true, link }
    } catch {
      return { copied: false, link }
    }
  }
}
