/**
 * A placeholder of the common header, `<tessera-header product="…">`: links to the products,
 * the current one marked. The design-system branch brings the real one; this one only keeps
 * the pages whole until then.
 */

const PRODUCTS = [['canvas', '/canvas', 'Pixel Wars'], ['desk', '/desk', 'Desks'], ['feedback', '/feedback', 'Feedback']]

class TesseraHeader extends HTMLElement {
  connectedCallback() {
    if (this.childElementCount > 0) return
    const nav = document.createElement('nav')
    nav.setAttribute('aria-label', 'Tessera')
    nav.style.cssText = 'display:flex;gap:1.25rem;align-items:center;padding:0 0.75rem;font-size:0.85rem;'
    for (const [product, href, label] of PRODUCTS) {
      const link = document.createElement('a')
      link.href = href
      link.textContent = label
      link.style.cssText = 'color:inherit;opacity:0.75;text-decoration:none;display:inline-flex;align-items:center;min-height:44px;'
      if (product === this.getAttribute('product')) {
        link.setAttribute('aria-current', 'page')
        link.style.opacity = '1'
        link.style.fontWeight = '600'
      }
      nav.append(link)
    }
    this.append(nav)
  }
}

if (!customElements.get('tessera-header')) customElements.define('tessera-header', TesseraHeader)
