/**
 * Pixel Wars: the page's composition root. It finds the canvas, builds the parts and wires them
 * to the page, and exposes `window.tessera` (the sign-in callbacks and a small hook for tests).
 */

import { getJson } from '../api.js'
import { AccountCorner } from './account.js'
import { Address, placeInAddress } from './address.js'
import { Board } from './board.js'
import { Cooldown } from './cooldown.js'
import { CurrentGame } from './current.js'
import { Game } from './game.js'
import { Grid } from './grid.js'
import { Inspector } from './inspector.js'
import { Online } from './online.js'
import { Palette } from './palette.js'
import { Session } from './session.js'
import { Spectator } from './spectate.js'
import { placeState, renderConnection, renderStatus } from './status.js'
import { Sync } from './sync.js'
import { Timelapse } from './timelapse.js'
import { explain, isCooldown, newGameText, showToast } from './toast.js'
import { View } from './view.js'
import { Watch } from './watch.js'

const DEFAULT_CONFIG = {
  spectator_poll_ms: 5000,
  afk_after_ms: 120000,
  player_cap: 5000,
  google_client_id: null,
  telegram_bot_username: null,
  current_canvas: null,
  guest_sign_in: false,
  live_spectators: false,
}
const HINT_KEY = 'tessera.hint'
const ONLINE_EVERY_MS = 10_000

const $ = (id) => document.getElementById(id)
const session = new Session()
let corner = null

const tessera = {
  ready: null,
  version: null,
  state: 'spectating',
  position: null,
  pixel: () => undefined,
  signInWithGoogle: (idToken) => told(session.signInWithGoogle(idToken)),
  signInWithTelegram: (fields) => told(session.signInWithTelegram(fields)),
  signInAsGuest: (name) => told(session.signInAsGuest(name)),
  linkGoogle: (idToken) => told(session.link('google', idToken)),
  linkTelegram: (fields) => told(session.link('telegram', fields)),
  /** The provider buttons' callbacks: a guest links the provider (and keeps its account). */
  useGoogle: (idToken) => (session.isGuest ? tessera.linkGoogle(idToken) : tessera.signInWithGoogle(idToken)),
  useTelegram: (fields) => (session.isGuest ? tessera.linkTelegram(fields) : tessera.signInWithTelegram(fields)),
  signOut: () => session.signOut(),
}
window.tessera = tessera
registerWorker()
tessera.ready = main().catch((error) => {
  $('status').textContent = 'Could not load the canvas'
  $('status').dataset.state = 'offline'
  showToast(explain(error))
  throw error
})

async function main() {
  const config = { ...DEFAULT_CONFIG, ...(await getJson('/api/config').catch(() => ({}))) }
  corner = new AccountCorner(session, config)
  const named = new URLSearchParams(location.search).get('canvas')
  let canvas = await findCanvas(config, named)
  showTitle(canvas)

  let frame = 0
  const render = () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0
      board.draw()
      updatePage()
    })
  }
  const boardChanged = () => {
    render()
    inspector?.boardChanged()
  }
  // A new game brings a board, a sync and spectators of its own; the rest follows it.
  let board = new Board($('board'), canvas, boardChanged)
  let sync = syncOf(canvas, board)
  const inspector = new Inspector($('inspector'), canvas, board)
  const view = new View(
    { viewport: $('viewport'), canvas: $('board'), reticle: $('reticle') },
    canvas,
    (x, y) => {
      inspector.show(x, y)
      hideHint()
      showCoords({ x, y })
      render()
    },
  )
  const address = new Address(view, $('viewport'))
  const grid = new Grid($('grid'), $('grid-toggle'), view)
  view.onMove = () => {
    grid.draw()
    address.moved()
  }
  view.onHover = (pixel) => showCoords(pixel ?? view.selected)
  const palette = new Palette($('palette'), canvas.palette, render)
  const cooldown = new Cooldown($('cooldown'), canvas.id, render)
  const online = new Online($('online'), ONLINE_EVERY_MS)
  const timelapse = new Timelapse($('timelapse-dialog'), $('timelapse'))
  timelapse.setCanvas(canvas)
  const watchOf = (canvas, sync) => (config.live_spectators ? new Watch(canvas.id, sync) : null)
  const game = new Game({
    canvasId: canvas.id,
    session,
    sync,
    spectator: new Spectator(sync, config.spectator_poll_ms),
    watch: watchOf(canvas, sync),
  })
  game.addEventListener('change', render)
  game.addEventListener('error', (event) => showToast(explain(event.detail)))
  session.addEventListener('change', render)
  addEventListener('offline', render)
  addEventListener('online', render)
  setInterval(render, 1000) // the reconnect countdown
  let placing = false

  function syncOf(canvas, board) {
    const sync = new Sync(canvas.id, board)
    sync.addEventListener('error', (event) => report(event.detail))
    return sync
  }

  /** The page moves to a new game without a reload. */
  function follow(next) {
    canvas = next
    showTitle(canvas)
    board = new Board($('board'), canvas, boardChanged)
    sync = syncOf(canvas, board)
    inspector.setCanvas(canvas, board)
    view.setBoard(canvas)
    palette.setColours(canvas.palette)
    cooldown.setCanvas(canvas.id)
    online.follow(canvas.id)
    timelapse.setCanvas(canvas)
    game.switchTo({
      canvasId: canvas.id,
      sync,
      spectator: new Spectator(sync, config.spectator_poll_ms),
      watch: watchOf(canvas, sync),
    })
    tessera.canvas = canvas
    render()
  }

  // A page opened on a named canvas stays there and only offers the new game.
  const current = new CurrentGame(
    named ? config.current_canvas : canvas.id,
    config.spectator_poll_ms,
    (next) => {
      if (named) {
        offerNewGame(next)
      } else {
        follow(next)
        showToast(newGameText(next, { followed: true }))
      }
    },
  )

  async function place(x, y, colour) {
    const target = canvas // a new game may start meanwhile: a refusal is about this one
    placing = true
    render()
    try {
      const { version } = await game.place(x, y, colour)
      if (target === canvas) cooldown.start(target.cooldown_ms)
      hideHint()
      return version
    } catch (error) {
      if (target === canvas && isCooldown(error)) {
        cooldown.start(error.waitMs)
        // The toast counts down with the timer: both read the one cooldown.
        showToast(() => (cooldown.active
          ? `Wait ${cooldown.text} before your next pixel.`
          : 'Ready: place your next pixel.'))
      } else {
        if (error.code === 'canvas_closed') target.is_open = false
        showToast(explain(error))
      }
      throw error
    } finally {
      placing = false
      render()
    }
  }

  function updatePage() {
    const state = game.state
    renderStatus({ status: $('status'), playAgain: $('play-again') }, game, session, canvas, sync.asOf)
    renderConnection($('connection'), game, board.version)
    const can = placeState({
      game, session, canvas, selected: view.selected, colour: palette.selected, cooldown, placing,
    })
    const button = $('place')
    button.disabled = !can.enabled
    button.textContent = session.signedIn ? 'Place' : 'Sign in to place'
    const reason = $('place-reason')
    reason.textContent = can.reason
    reason.dataset.state = can.state
    // One line under the button, of a fixed height: the reason, else the timer (or "Ready").
    reason.hidden = can.reason === ''
    $('cooldown').hidden = !reason.hidden
    const reticle = $('reticle')
    reticle.classList.toggle('coloured', palette.hex !== null)
    if (palette.hex !== null) reticle.style.setProperty('--colour', palette.hex)
    Object.assign(tessera, {
      version: board.version,
      state,
      position: game.position,
      queueLength: game.queueLength,
    })
  }

  function showCoords(pixel) {
    const coords = $('coords')
    coords.hidden = pixel === null
    if (pixel !== null) coords.textContent = `(${pixel.x}, ${pixel.y})`
  }

  $('place').addEventListener('click', () => {
    if (!session.signedIn) {
      corner.open()
      return
    }
    const selected = view.selected
    if (selected === null || palette.selected === null) return
    place(selected.x, selected.y, palette.selected).catch(() => {}) // told in a toast already
  })
  $('play-again').addEventListener('click', () => game.playAgain())
  $('zoom-in').addEventListener('click', () => zoomBy(1.6))
  $('zoom-out').addEventListener('click', () => zoomBy(1 / 1.6))
  $('fit').addEventListener('click', () => view.fit())
  $('share').addEventListener('click', async () => {
    const { copied, link } = await address.share()
    showToast(copied ? 'Link copied: it opens this place at this zoom.' : `Copy this link: ${link}`)
  })
  $('hint-ok').addEventListener('click', hideHint)
  $('replay-link').addEventListener('click', (event) => {
    event.currentTarget.href = `/replay?canvas=${encodeURIComponent(canvas.id)}`
  })
  $('feedback-link').addEventListener('click', (event) => {
    event.currentTarget.href = `/feedback?canvas=${encodeURIComponent(canvas.id)}`
  })

  function zoomBy(factor) {
    const box = $('viewport').getBoundingClientRect()
    view.zoomAt(factor, box.width / 2, box.height / 2, { smooth: true })
  }

  const shared = placeInAddress()
  if (shared !== null && board.contains(shared.x, shared.y)) {
    view.centerOn(shared.x, shared.y, shared.zoom ?? 16)
    view.select(shared.x, shared.y)
  }
  if (!seenHint()) $('hint').hidden = false

  Object.assign(tessera, {
    pixel: (x, y) => board.pixel(x, y),
    place,
    playAgain: () => game.playAgain(),
    select: (x, y) => view.select(x, y),
    /** Page coordinates of a pixel's centre, for clicking it. */
    pointOf: (x, y) => view.pointOf(x, y),
    view,
    grid,
    canvas,
    timelapse,
  })
  current.start()
  online.follow(canvas.id)
  updatePage()
  $('viewport').classList.remove('loading')
}

function seenHint() {
  try {
    return localStorage.getItem(HINT_KEY) === 'seen'
  } catch {
    return false
  }
}

function hideHint() {
  $('hint').hidden = true
  try {
    localStorage.setItem(HINT_KEY, 'seen')
  } catch {
    // shown again next time
  }
}

function showTitle(canvas) {
  document.title = canvas.title ? `${canvas.title} · Pixel Wars` : 'Pixel Wars'
  $('title').textContent = canvas.title
}

/** On a page kept on its canvas: a link to the new game, and the news in a toast. */
function offerNewGame(canvas) {
  let link = $('new-game')
  if (link === null) {
    link = document.createElement('a')
    link.id = 'new-game'
    link.className = 'new-game'
    $('status').after(link)
  }
  link.href = '/canvas' // the current game, followed from then on
  link.textContent = 'A new game started — go to it'
  showToast(newGameText(canvas, { followed: false }))
}

/** The canvas named in the address (`?canvas=<id>`), else the current game; waits for one to open. */
async function findCanvas(config, named) {
  if (named) return getJson(`/api/canvas/${encodeURIComponent(named)}`)
  if (config.current_canvas) return getJson(`/api/canvas/${config.current_canvas}`)
  for (;;) {
    const { current_canvas: id } = await getJson('/api/config')
    if (id) {
      const canvas = await getJson(`/api/canvas/${id}`)
      $('empty').hidden = true
      $('viewport').classList.remove('loading')
      return canvas
    }
    $('empty').hidden = false
    $('viewport').classList.add('loading', 'empty-state')
    $('status').textContent = 'Waiting for a game'
    $('status').dataset.state = 'spectating'
    await new Promise((resolve) => setTimeout(resolve, config.spectator_poll_ms))
  }
}

/** A sign-in's outcome: failures are shown (in the dialog when it is open), and still reach the
 *  caller. */
async function told(signingIn) {
  try {
    return await signingIn
  } catch (error) {
    if (!corner?.tell(error)) showToast(explain(error))
    throw error
  }
}

function report(error) {
  console.warn(error)
  if (!(error instanceof TypeError)) showToast(explain(error)) // offline is shown in the badge
}

/** The app shell works offline and the game installs as an app (scope `/canvas`, never /desk/). */
function registerWorker() {
  if (!('serviceWorker' in navigator)) return
  navigator.serviceWorker.register('/canvas-sw.js', { scope: '/canvas' }).catch((error) => {
    console.warn('the service worker did not register', error)
  })
}
