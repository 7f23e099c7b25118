/**
 * Pixel Wars: the page's composition root. It finds the canvas, builds the parts and wires them
 * to the page, and exposes `window.tessera` (the sign-in callbacks and a small hook for tests).
 */

import { ApiFailure, getJson } from '../api.js'
import { Board } from './board.js'
import { Cooldown } from './cooldown.js'
import { CurrentGame } from './current.js'
import { Game } from './game.js'
import { Inspector } from './inspector.js'
import { Palette } from './palette.js'
import { showGoogleButton, showTelegramButton } from './providers.js'
import { Session } from './session.js'
import { Spectator } from './spectate.js'
import { renderConnection, renderStatus } from './status.js'
import { Sync } from './sync.js'
import { explain, isCooldown, newGameText, showToast } from './toast.js'
import { View } from './view.js'

const DEFAULT_CONFIG = {
  spectator_poll_ms: 5000,
  afk_after_ms: 120000,
  player_cap: 5000,
  google_client_id: null,
  telegram_bot_username: null,
  current_canvas: null,
}

const $ = (id) => document.getElementById(id)
const session = new Session()

const tessera = {
  ready: null,
  version: null,
  state: 'spectating',
  position: null,
  pixel: () => undefined,
  signInWithGoogle: (idToken) => told(session.signInWithGoogle(idToken)),
  signInWithTelegram: (fields) => told(session.signInWithTelegram(fields)),
  signOut: () => session.signOut(),
}
window.tessera = tessera
tessera.ready = main().catch((error) => {
  showToast(explain(error))
  throw error
})

async function main() {
  const config = { ...DEFAULT_CONFIG, ...(await getJson('/api/config').catch(() => ({}))) }
  showAccount(config)
  session.addEventListener('change', () => showAccount(config))
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
  // A new game brings a board, a sync and a spectator of its own; the rest follows it.
  let board = new Board($('board'), canvas, boardChanged)
  let sync = syncOf(canvas, board)
  const inspector = new Inspector($('inspector'), canvas, board)
  const view = new View(
    { viewport: $('viewport'), canvas: $('board'), reticle: $('reticle') },
    canvas,
    (x, y) => {
      inspector.show(x, y)
      render()
    },
  )
  const palette = new Palette($('palette'), canvas.palette, render)
  const cooldown = new Cooldown($('cooldown'), canvas.id, render)
  const game = new Game({
    canvasId: canvas.id,
    session,
    sync,
    spectator: new Spectator(sync, config.spectator_poll_ms),
  })
  game.addEventListener('change', render)
  game.addEventListener('error', (event) => showToast(explain(event.detail)))
  session.addEventListener('change', render)
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
    game.switchTo({
      canvasId: canvas.id,
      sync,
      spectator: new Spectator(sync, config.spectator_poll_ms),
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
      return version
    } catch (error) {
      if (target === canvas && isCooldown(error)) cooldown.start(error.waitMs)
      if (error.code === 'canvas_closed') target.is_open = false
      showToast(explain(error))
      throw error
    } finally {
      placing = false
      render()
    }
  }

  function updatePage() {
    const state = game.state
    renderStatus({ status: $('status'), playAgain: $('play-again') }, game, session, canvas)
    renderConnection($('connection'), game, board.version)
    const button = $('place')
    const selected = view.selected
    button.disabled = !session.signedIn || selected === null || palette.selected === null ||
      cooldown.active || placing || !canvas.is_open || state === 'queued' || state === 'afk'
    button.textContent = session.signedIn ? 'Place' : 'Sign in to place'
    $('cooldown').hidden = !session.signedIn
    Object.assign(tessera, {
      version: board.version,
      state,
      position: game.position,
      queueLength: game.queueLength,
    })
  }

  $('place').addEventListener('click', () => {
    const selected = view.selected
    if (selected === null || palette.selected === null) return
    place(selected.x, selected.y, palette.selected).catch(() => {}) // told in a toast already
  })
  $('play-again').addEventListener('click', () => game.playAgain())
  $('sign-out').addEventListener('click', () => session.signOut())

  Object.assign(tessera, {
    pixel: (x, y) => board.pixel(x, y),
    place,
    playAgain: () => game.playAgain(),
    select: (x, y) => view.select(x, y),
    /** Page coordinates of a pixel's centre, for clicking it. */
    pointOf: (x, y) => view.pointOf(x, y),
    canvas,
  })
  current.start()
  updatePage()
  $('viewport').classList.remove('loading')
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
  link.href = '/' // the current game, followed from then on
  link.textContent = 'A new game started — go to it'
  showToast(newGameText(canvas, { followed: false }))
}

/** The canvas named in the address (`?canvas=<id>`), else the current game; waits for one to open. */
async function findCanvas(config, named) {
  if (named) return getJson(`/api/canvas/${encodeURIComponent(named)}`)
  if (config.current_canvas) return getJson(`/api/canvas/${config.current_canvas}`)
  for (;;) {
    try {
      const canvas = await getJson('/api/canvas/current')
      $('empty').hidden = true
      return canvas
    } catch (error) {
      if (!(error instanceof ApiFailure && error.status === 404)) throw error
    }
    $('empty').hidden = false
    await new Promise((resolve) => setTimeout(resolve, config.spectator_poll_ms))
  }
}

function showAccount(config) {
  const account = session.account
  $('signed-in').hidden = account === null
  $('sign-in').hidden = account !== null
  $('account-name').textContent = account?.display_name ?? ''
  const buttons = $('sign-in')
  if (account !== null || buttons.dataset.shown) return
  buttons.dataset.shown = 'yes'
  const note = $('no-sign-in')
  const failed = () => {
    if (buttons.querySelector('.provider') !== null) return
    note.textContent = 'Sign-in is unavailable right now.'
    note.hidden = false
  }
  if (config.google_client_id) showGoogleButton($('google-button'), config.google_client_id, failed)
  else $('google-button').remove()
  if (config.telegram_bot_username) {
    showTelegramButton($('telegram-button'), config.telegram_bot_username, failed)
  } else {
    $('telegram-button').remove()
  }
  note.hidden = buttons.querySelector('.provider') !== null
}

/** A sign-in's outcome: failures are shown, and still reach the caller. */
async function told(signingIn) {
  try {
    return await signingIn
  } catch (error) {
    showToast(explain(error))
    throw error
  }
}

function report(error) {
  console.warn(error)
  if (!(error instanceof TypeError)) showToast(explain(error)) // offline is shown in the badge
}
