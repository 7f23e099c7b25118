/**
 * The header every Tessera page shares: `<tessera-header product="canvas|desk|quiz|feedback">`.
 * It shows the brand (a link home) and the products, the page's own as current; whatever the
 * page put inside the element (a status, the account) follows them. On a phone the products
 * fold into a menu. The one stylesheet (/static/style.css) styles it; a page that does not link
 * it yet gets it here.
 *
 *   <script type="module" src="/static/header.js"></script>
 *   <tessera-header product="desk"></tessera-header>
 *
 * A page whose markup does not carry the element (the billiards Mini App) loads the module as
 * `/static/header.js?mount=<product>`: the header goes at the top of its body — except inside a
 * Telegram Mini App, where Telegram draws its own top bar.
 */

/** The products, in the order shown. A hidden one is not built yet: listed, not linked. */
export const PRODUCTS = [
  {
    id: 'canvas',
    name: 'Pixel Wars',
    href: '/canvas',
    blurb: 'One shared canvas. Place a pixel, wait out your cooldown, and paint something with everyone.',
  },
  {
    id: 'desk',
    name: 'Desks',
    href: '/desk',
    blurb: 'A board of sticky notes anyone with its link can edit with you, live and even offline.',
  },
  {
    id: 'quiz',
    name: 'Live quiz',
    href: '/quiz',
    blurb: 'A host screen asks, everyone answers on their phone with a game code: fastest right answer wins.',
  },
  {
    id: 'feedback',
    name: 'Feedback',
    href: '/feedback',
    blurb: 'Found a bug or have an idea? Tell the people who run this server.',
  },
  {
    id: 'billiards',
    name: 'Billiards',
    href: '/billiards',
    blurb: 'Score pyramid matches shot by shot, queue for tables, climb the ratings with friends.',
  },
  {
    id: 'relay',
    name: 'Relay rooms',
    hidden: true,
    note: 'Also here: relay rooms for JamJar clients, at /v1/api and /v1/websocket.',
  },
]

const STYLESHEET = '/static/style.css'

class TesseraHeader extends HTMLElement {
  connectedCallback() {
    if (this.dataset.built) return
    this.dataset.built = 'yes'
    ensureStylesheet()
    const current = this.getAttribute('product')
    const own = [...this.childNodes]

    const brand = element('a', { class: 'brand', href: '/', 'aria-label': 'Tessera: all products' })
    brand.append(element('img', { src: '/static/icon.svg', alt: '', width: '24', height: '24' }),
      element('span', {}, 'Tessera'))

    const shown = PRODUCTS.filter((product) => !product.hidden)
    const links = () => shown.map((product) => {
      const link = element('a', { href: product.href }, product.name)
      if (product.id === current) link.setAttribute('aria-current', 'page')
      return link
    })
    const nav = element('nav', { class: 'products', 'aria-label': 'Products' })
    nav.append(...links())

    const menu = element('nav', { class: 'product-menu', 'aria-label': 'Products', hidden: '' })
    menu.append(...links())
    const menuButton = element('button', {
      type: 'button', class: 'menu-button icon quiet', 'aria-label': 'Products', 'aria-expanded': 'false',
    }, '☰')
    const toggle = (open) => {
      menu.hidden = !open
      menuButton.setAttribute('aria-expanded', String(open))
    }
    menuButton.addEventListener('click', () => toggle(menu.hidden))
    document.addEventListener('click', (event) => {
      if (!this.contains(event.target)) toggle(false)
    })
    this.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') toggle(false)
    })

    const slot = element('div', { class: 'header-slot' })
    slot.append(...own)
    this.replaceChildren(brand, menuButton, nav, menu, slot)
  }
}

function ensureStylesheet() {
  if (document.querySelector(`link[rel="stylesheet"][href="${STYLESHEET}"]`)) return
  const link = element('link', { rel: 'stylesheet', href: STYLESHEET })
  document.head.prepend(link) // first: the page's own stylesheet still has the last word
}

function element(name, attributes = {}, text = '') {
  const node = document.createElement(name)
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value)
  if (text) node.textContent = text
  return node
}

if (!customElements.get('tessera-header')) customElements.define('tessera-header', TesseraHeader)

const mounted = new URL(import.meta.url).searchParams.get('mount')
if (mounted !== null && !inTelegramMiniApp() && document.querySelector('tessera-header') === null) {
  document.body.prepend(element('tessera-header', { product: mounted })) // a module runs once the body is there
}

function inTelegramMiniApp() {
  return location.hash.includes('tgWebAppData') || Boolean(window.Telegram?.WebApp?.initData)
}
