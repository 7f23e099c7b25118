/**
 * A sticker desk's page: the composition root. It claims a session, opens the outbox, puts back
 * the desk as this browser last saw it, builds the parts and wires them to the page, and exposes
 * `window.desk`, a small hook for tests. The desk's creator also gets "Finish session", which
 * moves everyone on the desk on to a new session.
 *
 * Every local change is stamped, merged here at once, stored in the outbox and then sent.
 */

import { account, postAsAccount } from './account.js'
import { Camera } from './camera.js'
import { Collisions } from './collisions.js'
import { Clock } from './hlc.js'
import { uuid7 } from './ids.js'
import { bindKeys } from './keys.js'
import { Marquee } from './marquee.js'
import { Outbox } from './outbox.js'
import { loaded, notice, problem, showState, toast } from './page.js'
import { Presence, myName } from './presence.js'
import { forget, keepState, lastState, opened } from './recent.js'
import { DEFAULTS, Replica } from './replica.js'
import { claimSession, creatorToken } from './session.js'
import { StickerLayer } from './stickers.js'
import { Sync } from './sync.js'
import { History } from './undo.js'
import { registerWorker } from './worker.js'
import { keyAbove } from './zorder.js'

const COLOURS = [
  ['#fff59d', 'Yellow'], ['#ffcc80', 'Orange'], ['#f48fb1', 'Pink'],
  ['#90caf9', 'Blue'], ['#a5d6a7', 'Green'], ['#ce93d8', 'Purple'],
]
const PASTE_OFFSET = 24
const DOUBLE_TAP_MS = 350
const $ = (id) => document.getElementById(id)
const deskId = decodeURIComponent(location.pathname.split('/').filter(Boolean).at(-1) ?? '')

const desk = {
  ready: null,
  syncState: 'Connecting…',
  stickers: () => ({}),
  pending: () => 0,
  state: () => 'unavailable',
}
window.desk = desk
registerWorker()
desk.ready = main().catch((error) => {
  // The page says what went wrong instead of a dead board; nothing is left uncaught.
  if (error.code === 'desk_not_found' || error.code === 'desk_gone') {
    forget(deskId)
    showState(error.code)
  } else if (error instanceof TypeError || !navigator.onLine) showState('offline')
  else showState('failed', error.message ?? null)
  desk.failure = error.code ?? 'failed'
})

async function main() {
  const cached = lastState(deskId)
  if (cached?.name) showName(cached.name)
  const session = await claimSession(deskId)
  const clientId = session.client_id
  opened(deskId, session.name ?? cached?.name)
  if (session.name) showName(session.name)
  else if (!cached?.name) fetchName()
  const outbox = await Outbox.open(clientId)
  const replica = new Replica()
  const clock = new Clock(clientId)
  for (const sticker of cached?.stickers ?? []) {
    for (const stamp of Object.values(sticker.stamps)) clock.observe(stamp)
    replica.load(sticker)
  }
  for (const op of outbox.ops) {
    clock.observe(op.stamp)
    replica.merge(op.sticker, op.fields, op.stamp)
  }
  const sync = new Sync({ deskId, session, replica, clock, outbox, account })
  const history = new History(clientId, replica)

  let frame = 0
  let keepTimer = 0
  let wasSynced = false
  const renderNow = () => {
    cancelAnimationFrame(frame)
    frame = 0
    layer.render(replica, presence.drags)
    updateTools()
    clearTimeout(keepTimer)
    keepTimer = setTimeout(() => keepState(deskId, { name: $('name').textContent, stickers: replica.snapshot() }), 300)
  }
  const render = () => {
    frame ||= requestAnimationFrame(renderNow)
  }
  const camera = new Camera($('viewport'), $('board'), () => {
    $('zoom-reset').textContent = `${Math.round(camera.scale * 100)}%`
  }, (event) => !event.shiftKey || event.pointerType === 'touch')
  const layer = new StickerLayer($('board'), {
    moved: (moves) => {
      presence.offer({ drag: null })
      for (const [id, x, y] of moves) change(id, { x, y })
    },
    dragging: (id, x, y) => presence.offer({ drag: { sticker: id, x, y } }),
    resized: (id, w, h) => change(id, { w, h }),
    edited: (id, text) => change(id, { text }),
    selected: () => render(),
  }, () => camera.scale)
  const presence = new Presence({
    layer: $('cursors'),
    people: $('people'),
    me: { clientId, name: myName() },
    send: (frame) => sync.presence(frame),
    onDrags: render,
    overSticker: (x, y) => layer.boxes().some((b) => x >= b.left && x <= b.right && y >= b.top && y <= b.bottom),
  })
  const collisions = new Collisions($('notices'), (notice) => {
    change(notice.sticker, { [notice.field]: notice.lost })
  })

  /** Make a change of ours: stamped, merged, remembered for undo, stored, sent. */
  function change(id, fields, { create = false, record = true } = {}) {
    const current = replica.values(id)
    const changed = create ? { ...DEFAULTS, ...fields }
      : Object.fromEntries(Object.entries(fields).filter(([field, value]) => current[field] !== value))
    if (Object.keys(changed).length === 0) return Promise.resolve()
    const seen = {}
    if (!create) {
      for (const field of Object.keys(changed)) {
        const stamp = replica.stamp(id, field)
        if (stamp !== null) seen[field] = stamp
      }
    }
    const stamp = clock.tick()
    if (record) {
      const from = create ? { deleted: true } : pick(current, changed)
      history.record(id, from, create ? { deleted: false } : changed)
    }
    replica.merge(id, changed, stamp)
    render()
    const op = { client_id: clientId, sticker: id, stamp, fields: changed }
    if (create) op.create = true
    else op.seen = seen
    return sync.submit(op)
  }

  function createSticker({ x, y, text = '', colour = COLOURS[0][0], w, h } = {}) {
    const id = uuid7()
    const [cx, cy] = camera.centre()
    const fields = {
      x: x ?? cx - DEFAULTS.w / 2, y: y ?? cy - DEFAULTS.h / 2, text, colour, z: keyAbove(replica.topZ()),
    }
    if (w !== undefined) fields.w = w
    if (h !== undefined) fields.h = h
    change(id, fields, { create: true })
    return id
  }

  /** A new sticker from the board or the toolbar: selected, and open for typing at once. */
  function newSticker(at = {}) {
    const id = createSticker(at)
    renderNow()
    layer.select(id)
    layer.edit(id)
    return id
  }

  const live = () => replica.ids().filter((id) => !replica.values(id).deleted)
  const remove = (id) => change(id, { deleted: true })
  const toFront = (id) => {
    const top = replica.topZ()
    if (replica.values(id).z !== top || isTied(id, top)) change(id, { z: keyAbove(top) })
  }
  const isTied = (id, z) => live().some((other) => other !== id && replica.values(other).z === z)
  const step = (entry) => (entry === null ? Promise.resolve() : change(entry.sticker, entry.fields, { record: false }))
  const undo = () => step(history.undo())
  const redo = () => step(history.redo())

  // -- copy, paste, duplicate ------------------------------------------------------------------

  let copied = []
  let pastes = 0
  const copy = () => {
    copied = [...layer.selection].map((id) => {
      const { x, y, w, h, text, colour } = replica.values(id)
      return { x, y, w, h, text, colour }
    })
    pastes = 0
    navigator.clipboard?.writeText(copied.map((s) => s.text).join('\n\n')).catch(() => {})
  }
  const pasteStickers = (stickers, offset) => {
    const ids = stickers.map((s) => createSticker({ ...s, x: s.x + offset, y: s.y + offset }))
    renderNow()
    layer.selectAll(ids)
  }
  const paste = (text) => {
    if (text !== undefined) {
      const id = createSticker({ text: text.slice(0, 4000) })
      renderNow()
      layer.select(id)
      return
    }
    pastes += 1
    pasteStickers(copied, PASTE_OFFSET * pastes)
  }
  const duplicate = () => {
    copy()
    paste()
  }

  // -- the page -------------------------------------------------------------------------------

  const colours = $('colours')
  for (const [colour, name] of COLOURS) {
    const swatch = document.createElement('button')
    swatch.type = 'button'
    swatch.className = 'swatch'
    swatch.style.setProperty('--colour', colour)
    swatch.setAttribute('aria-label', name)
    swatch.title = name
    swatch.dataset.colour = colour
    swatch.disabled = true
    swatch.addEventListener('click', () => {
      for (const id of layer.selection) change(id, { colour })
      colours.classList.remove('open')
      $('colour-menu').setAttribute('aria-expanded', 'false')
    })
    colours.append(swatch)
  }
  $('colour-menu').addEventListener('click', () => {
    const open = colours.classList.toggle('open')
    $('colour-menu').setAttribute('aria-expanded', String(open))
  })
  $('new-sticker').addEventListener('click', () => newSticker())
  $('front').addEventListener('click', () => layer.selected && toFront(layer.selected))
  $('delete').addEventListener('click', () => [...layer.selection].forEach(remove))
  $('undo').addEventListener('click', undo)
  $('redo').addEventListener('click', redo)
  $('zoom-in').addEventListener('click', () => camera.zoomBy(1.25))
  $('zoom-out').addEventListener('click', () => camera.zoomBy(0.8))
  $('zoom-reset').addEventListener('click', () => camera.reset())
  const fit = () => camera.fit(bounds(layer.boxes()))
  $('zoom-fit').addEventListener('click', fit)
  $('copy-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(location.href)
      toast('Link copied: anyone with it can open and edit this desk')
    } catch {
      toast(`Copy this link: ${location.href}`)
    }
  })
  const onBackground = (event) => event.target === $('viewport') || event.target === $('board')
  let lastTap = null
  let tapped = 0
  $('viewport').addEventListener('dblclick', (event) => {
    if (!onBackground(event) || performance.now() - tapped < 600) return
    const [x, y] = camera.boardPoint(event.clientX, event.clientY)
    newSticker({ x: x - DEFAULTS.w / 2, y: y - DEFAULTS.h / 2 })
  })
  $('viewport').addEventListener('pointerdown', (event) => {
    if (!onBackground(event)) return
    if (!event.shiftKey) layer.select(null)
    if (event.pointerType !== 'touch' || camera.pinching) return
    const now = performance.now()
    const near = lastTap && Math.hypot(event.clientX - lastTap.x, event.clientY - lastTap.y) < 30
    if (near && now - lastTap.at < DOUBLE_TAP_MS) {
      lastTap = null
      tapped = now
      const [x, y] = camera.boardPoint(event.clientX, event.clientY)
      newSticker({ x: x - DEFAULTS.w / 2, y: y - DEFAULTS.h / 2 })
    } else lastTap = { x: event.clientX, y: event.clientY, at: now }
  })
  $('viewport').addEventListener('pointermove', (event) => {
    if (event.pointerType !== 'touch') presence.offer({ cursor: camera.boardPoint(event.clientX, event.clientY) })
  })
  new Marquee($('viewport'), $('marquee'), (box) => {
    const [left, top] = camera.boardPoint(box.left, box.top)
    const [right, bottom] = camera.boardPoint(box.right, box.bottom)
    const inside = layer.boxes().filter((b) => b.left < right && b.right > left && b.top < bottom && b.bottom > top)
    layer.selectAll([...new Set([...layer.selection, ...inside.map((b) => b.id)])])
  })
  bindKeys({
    layer, undo, redo, copy, paste, duplicate, newSticker: () => newSticker(),
    hasCopy: () => copied.length > 0,
    removeSelected: () => [...layer.selection].forEach(remove),
    selectAll: () => layer.selectAll(live()),
    nudge: (dx, dy) => {
      for (const id of layer.selection) {
        const { x, y } = replica.values(id)
        change(id, { x: x + dx, y: y + dy })
      }
    },
    zoomIn: () => camera.zoomBy(1.25), zoomOut: () => camera.zoomBy(0.8), zoomReset: () => camera.reset(), zoomFit: fit,
  })

  function updateTools() {
    const selected = layer.selection.size > 0
    for (const id of ['front', 'delete', 'colour-menu']) $(id).disabled = !selected
    const colour = selected ? replica.values(layer.selected).colour : null
    $('colour-menu').style.setProperty('--colour', colour ?? 'transparent')
    if (!selected) colours.classList.remove('open')
    for (const swatch of colours.children) {
      swatch.disabled = !selected
      swatch.setAttribute('aria-pressed', String(colour === swatch.dataset.colour))
    }
    $('undo').disabled = !history.canUndo
    $('redo').disabled = !history.canRedo
    $('empty').hidden = live().length > 0
    desk.syncState = syncText()
    const status = $('sync')
    status.textContent = desk.syncState
    status.dataset.state = sync.state === 'synced' && outbox.size > 0 ? 'saving' : sync.state
    if (sync.synced !== wasSynced) {
      wasSynced = sync.synced
      if (wasSynced) presence.joined()
      else presence.left()
    }
  }

  function syncText() {
    switch (sync.state) {
      case 'synced':
        return outbox.size === 0 ? 'Saved' : 'Saving…'
      case 'gone':
        return 'This desk is gone'
      case 'connecting':
        if (!sync.everSynced) return 'Connecting…'
        // falls through: between sockets we are as good as offline
      default:
        return `Offline — ${outbox.size} pending`
    }
  }

  sync.addEventListener('change', render)
  sync.addEventListener('op', (event) => presence.dropped(event.detail))
  sync.addEventListener('collision', (event) => collisions.add(event.detail))
  sync.addEventListener('presence', (event) => presence.received(event.detail))
  sync.addEventListener('gone', (event) => presence.gone(event.detail))
  sync.addEventListener('session', (event) => newSession(event.detail))
  sync.addEventListener('problem', (event) => {
    const { error, detail } = event.detail
    if (error === 'desk_gone') {
      forget(deskId)
      showState('desk_gone')
    } else if (error === 'refused') problem(`The server refused this page’s connection (${detail}).`)
    else problem(`A change was refused: ${detail ?? error}`)
  })

  Object.assign(desk, {
    clientId,
    stickers: () => Object.fromEntries(replica.ids().map((id) => [id, replica.values(id)])),
    pending: () => outbox.size,
    createSticker,
    edit: (id, fields) => change(id, fields),
    remove,
    toFront,
    undo,
    redo,
    collisions: () => collisions.shown.map(({ sticker, field, lost, winner }) => ({ sticker, field, lost, winner })),
    cursors: () => presence.cursors(),
    here: () => presence.here(),
    selection: () => [...layer.selection],
    zoom: () => camera.scale,
    state: () => sync.state,
    epoch: () => sync.epoch,
    lastSeq: () => sync.lastSeq,
  })

  // -- finishing the session (the creator only) -----------------------------------------------

  const token = creatorToken(deskId)
  let finishing = false
  let finishedEpoch = 0
  $('finish').hidden = token === null
  $('finish').addEventListener('click', () => {
    $('finish-dialog').returnValue = ''
    $('finish-dialog').showModal()
  })
  $('finish-dialog').addEventListener('close', () => {
    if ($('finish-dialog').returnValue === 'finish') finish()
  })
  $('session-ok').addEventListener('click', () => { $('session').hidden = true })

  async function finish() {
    finishing = true
    $('finish').disabled = true
    try {
      const { epoch } = await postAsAccount(`/api/desk/${encodeURIComponent(deskId)}/finish`, { creator_token: token })
      finishedEpoch = Math.max(finishedEpoch, epoch)
      history.clear()
      render()
      notice('You finished the session: everyone on this desk is now in a new one. The stickers stay and editing goes on; undo starts afresh.')
    } catch (error) {
      problem(`The session could not be finished: ${error.message ?? error}`)
    } finally {
      finishing = false
      $('finish').disabled = false
    }
  }

  /** The desk moved on to a new session: whoever finished it, our undo history ends with it. */
  function newSession({ epoch, announced }) {
    history.clear()
    render()
    if (finishing || epoch <= finishedEpoch) return // ours: `finish` tells it
    notice(announced
      ? 'The session was finished by the desk’s creator: you are now in a new session. The stickers stay and you can keep editing; undo starts afresh.'
      : 'A new session began while you were away. The stickers stay and you can keep editing; undo starts afresh.')
  }

  sync.start()
  renderNow()
  if (live().length > 0) {
    loaded()
    fit()
  }
  if (navigator.onLine) await sync.firstSync
  loaded()
  if (cached === null && live().length > 0) {
    renderNow()
    fit()
  }
  desk.readyAt = performance.now()
}

function fetchName() {
  fetch(`/api/desk/${encodeURIComponent(deskId)}`, { headers: { Accept: 'application/json' } })
    .then((response) => (response.ok ? response.json() : null))
    .then((found) => {
      if (found?.name) {
        showName(found.name)
        opened(deskId, found.name)
      }
    })
    .catch(() => {})
}

function showName(name) {
  $('name').textContent = name
  document.title = `${name} · Sticker desk`
}

function bounds(boxes) {
  if (boxes.length === 0) return null
  return {
    left: Math.min(...boxes.map((b) => b.left)), top: Math.min(...boxes.map((b) => b.top)),
    right: Math.max(...boxes.map((b) => b.right)), bottom: Math.max(...boxes.map((b) => b.bottom)),
  }
}

function pick(values, fields) {
  return Object.fromEntries(Object.keys(fields).map((field) => [field, values[field]]))
}
