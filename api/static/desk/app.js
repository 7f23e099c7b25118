/**
 * A sticker desk's page: the composition root. It claims a session, opens the outbox, builds the
 * parts and wires them to the page, and exposes `window.desk`, a small hook for tests. The desk's
 * creator also gets "Finish session", which moves everyone on the desk on to a new session.
 *
 * Every local change is stamped, merged here at once, stored in the outbox and then sent.
 */

import { postJson } from '../api.js'
import { Collisions } from './collisions.js'
import { Clock } from './hlc.js'
import { uuid7 } from './ids.js'
import { Outbox } from './outbox.js'
import { Pan } from './pan.js'
import { Presence } from './presence.js'
import { DEFAULTS, Replica } from './replica.js'
import { claimSession, creatorToken } from './session.js'
import { StickerLayer } from './stickers.js'
import { Sync } from './sync.js'
import { History } from './undo.js'
import { keyAbove } from './zorder.js'

const COLOURS = [
  ['#fff59d', 'Yellow'], ['#ffcc80', 'Orange'], ['#f48fb1', 'Pink'],
  ['#90caf9', 'Blue'], ['#a5d6a7', 'Green'], ['#ce93d8', 'Purple'],
]
const $ = (id) => document.getElementById(id)
const deskId = decodeURIComponent(location.pathname.split('/').filter(Boolean).at(-1) ?? '')

const desk = {
  ready: null,
  syncState: 'Connecting…',
  stickers: () => ({}),
  pending: () => 0,
}
window.desk = desk
desk.ready = main().catch((error) => {
  if (error.code === 'desk_not_found') problem('There is no desk at this link.')
  else if (error.code === 'desk_gone') problem('This desk has expired.')
  else problem(error.message ?? String(error))
  throw error
})

async function main() {
  const session = await claimSession(deskId)
  const clientId = session.client_id
  const outbox = await Outbox.open(clientId)
  const replica = new Replica()
  const clock = new Clock(clientId)
  for (const op of outbox.ops) {
    clock.observe(op.stamp)
    replica.merge(op.sticker, op.fields, op.stamp)
  }
  const sync = new Sync({ deskId, session, replica, clock, outbox })
  const history = new History(clientId, replica)

  let frame = 0
  const render = () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0
      layer.render(replica, presence.drags)
      updateTools()
    })
  }
  const presence = new Presence($('cursors'), (frame) => sync.presence(frame), render)
  const pan = new Pan($('viewport'), $('board'), render)
  const layer = new StickerLayer($('board'), {
    moved: (id, x, y) => {
      presence.offer({ drag: null })
      change(id, { x, y })
    },
    dragging: (id, x, y) => presence.offer({ drag: { sticker: id, x, y } }),
    resized: (id, w, h) => change(id, { w, h }),
    edited: (id, text) => change(id, { text }),
    selected: () => render(),
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

  function createSticker({ x, y, text = '', colour = COLOURS[0][0] } = {}) {
    const id = uuid7()
    const [cx, cy] = pan.centre()
    const fields = {
      x: x ?? cx - DEFAULTS.w / 2, y: y ?? cy - DEFAULTS.h / 2, text, colour, z: keyAbove(replica.topZ()),
    }
    change(id, fields, { create: true })
    return id
  }

  const remove = (id) => change(id, { deleted: true })
  const toFront = (id) => {
    const top = replica.topZ()
    if (replica.values(id).z !== top || isTied(id, top)) change(id, { z: keyAbove(top) })
  }
  const isTied = (id, z) => replica.ids().some((other) => other !== id && !replica.values(other).deleted
    && replica.values(other).z === z)
  const step = (entry) => (entry === null ? Promise.resolve() : change(entry.sticker, entry.fields, { record: false }))
  const undo = () => step(history.undo())
  const redo = () => step(history.redo())

  // -- the page -------------------------------------------------------------------------------

  const colours = $('colours')
  for (const [colour, name] of COLOURS) {
    const swatch = document.createElement('button')
    swatch.type = 'button'
    swatch.className = 'swatch'
    swatch.style.setProperty('--colour', colour)
    swatch.setAttribute('aria-label', name)
    swatch.dataset.colour = colour
    swatch.disabled = true
    swatch.addEventListener('click', () => layer.selected && change(layer.selected, { colour }))
    colours.append(swatch)
  }
  $('new-sticker').addEventListener('click', () => layer.select(createSticker()))
  $('front').addEventListener('click', () => layer.selected && toFront(layer.selected))
  $('delete').addEventListener('click', () => layer.selected && remove(layer.selected))
  $('undo').addEventListener('click', undo)
  $('redo').addEventListener('click', redo)
  $('viewport').addEventListener('dblclick', (event) => {
    if (event.target !== $('viewport') && event.target !== $('board')) return
    const [x, y] = pan.boardPoint(event.clientX, event.clientY)
    layer.select(createSticker({ x: x - DEFAULTS.w / 2, y: y - DEFAULTS.h / 2 }))
  })
  $('viewport').addEventListener('pointerdown', (event) => {
    if (event.target === $('viewport') || event.target === $('board')) layer.select(null)
  })
  $('viewport').addEventListener('pointermove', (event) => {
    presence.offer({ cursor: pan.boardPoint(event.clientX, event.clientY) })
  })
  addEventListener('keydown', (event) => {
    if (layer.editing !== null || event.target.isContentEditable || event.target.tagName === 'INPUT') return
    const mod = event.ctrlKey || event.metaKey
    if (mod && event.key.toLowerCase() === 'z') {
      event.preventDefault()
      if (event.shiftKey) redo()
      else undo()
    } else if (mod && event.key.toLowerCase() === 'y') {
      event.preventDefault()
      redo()
    } else if ((event.key === 'Delete' || event.key === 'Backspace') && layer.selected) {
      event.preventDefault()
      remove(layer.selected)
    } else if (event.key === 'Enter' && layer.selected) {
      event.preventDefault()
      layer.edit(layer.selected)
    }
  })

  function updateTools() {
    const selected = layer.selected !== null
    for (const id of ['front', 'delete']) $(id).disabled = !selected
    for (const swatch of colours.children) {
      swatch.disabled = !selected
      swatch.setAttribute('aria-pressed', String(selected && replica.values(layer.selected).colour === swatch.dataset.colour))
    }
    $('undo').disabled = !history.canUndo
    $('redo').disabled = !history.canRedo
    desk.syncState = syncText()
    const status = $('sync')
    status.textContent = desk.syncState
    status.dataset.state = sync.state === 'synced' && outbox.size > 0 ? 'saving' : sync.state
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
    if (error === 'desk_gone') problem('This desk has expired or does not exist.')
    else if (error === 'refused') problem(`The server refused this page’s connection (${detail}).`)
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
      const { epoch } = await postJson(`/api/desk/${encodeURIComponent(deskId)}/finish`, { creator_token: token })
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

  const opened = await fetch(`/api/desk/${deskId}`).then((r) => (r.ok ? r.json() : null)).catch(() => null)
  if (opened !== null) {
    $('name').textContent = opened.name
    document.title = `${opened.name} · Sticker desk`
  }
  sync.start()
  render()
  if (navigator.onLine) await sync.firstSync
}

function pick(values, fields) {
  return Object.fromEntries(Object.keys(fields).map((field) => [field, values[field]]))
}

function notice(text) {
  $('session-text').textContent = text
  $('session').hidden = false
}

function problem(text) {
  const element = $('problem')
  element.textContent = text
  element.hidden = false
  clearTimeout(problem.timer)
  problem.timer = setTimeout(() => { element.hidden = true }, 8000)
}
