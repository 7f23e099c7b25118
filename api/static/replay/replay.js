/**
 * Pixel Wars replay: a canvas's history played back (`/replay?canvas=<id>`). A position is
 * loaded as one snapshot (the server builds it from a keyframe plus the events after it); play
 * then applies pages of history (`GET /api/canvas/{id}/history?since=&until=`, the events as
 * delta entries), a page per tick and the next one fetched meanwhile: never a snapshot a frame.
 */

import { ApiFailure, expectOk, getJson } from '../api.js'
import { Board } from '../canvas/board.js'
import { parseDelta } from '../canvas/delta.js'

const TICKS_PER_S = 10
const MAX_PAGE = 100_000 // the server's bound on one page of history

const $ = (id) => document.getElementById(id)

const tessera = { ready: null, version: null, last: null, playing: false }
window.tessera = tessera
tessera.ready = main().catch((error) => {
  say(error instanceof TypeError ? 'Offline: cannot load the history' : `Could not load the replay: ${error.message}`, 'offline')
  $('stage').classList.remove('loading')
  throw error
})

function say(text, state) {
  const status = $('status')
  status.textContent = text
  status.dataset.state = state
}

/** The stage's empty state: `status` in the header, `text` (else the page's own) on the stage. */
function showEmpty(status, text) {
  $('stage').classList.remove('loading')
  $('stage').classList.add('empty-state')
  if (text) $('empty').textContent = text
  $('empty').hidden = false
  say(status, 'spectating')
}

async function main() {
  const id = new URLSearchParams(location.search).get('canvas') ?? (await getJson('/api/config')).current_canvas
  if (!id) {
    showEmpty('No game open', 'No game is open: there is nothing to replay yet.')
    return
  }
  let canvas = await getJson(`/api/canvas/${encodeURIComponent(id)}`)
  document.title = canvas.title ? `Replay: ${canvas.title} · Pixel Wars` : 'Replay · Pixel Wars'
  $('title').textContent = canvas.title ?? ''
  $('live-link').href = `/canvas?canvas=${encodeURIComponent(canvas.id)}`
  const board = new Board($('board'), canvas, () => requestAnimationFrame(() => board.draw()))
  fitBoard(canvas)
  addEventListener('resize', () => fitBoard(canvas))
  $('stage').classList.remove('loading')
  if (canvas.version <= 1) { // version 1 is the canvas's creation: nothing painted yet
    showEmpty('No history yet')
    return
  }

  const slider = $('slider')
  const play = $('play')
  const speed = $('speed')
  let generation = 0 // a seek or a pause ends the play loop of an older generation
  let playing = false

  function show() {
    slider.max = String(canvas.version)
    slider.value = String(board.version ?? 1)
    $('version').textContent = `version ${(board.version ?? 0).toLocaleString()} of ${canvas.version.toLocaleString()}`
    play.textContent = playing ? 'Pause' : (board.version >= canvas.version ? 'Replay' : 'Play')
    Object.assign(tessera, { version: board.version, last: canvas.version, playing })
  }

  async function seek(version) {
    const mine = ++generation
    say(`Loading version ${version.toLocaleString()}…`, 'loading')
    const response = await expectOk(await fetch(`/api/canvas/${canvas.id}/snapshot/${version}`))
    const bytes = new Uint8Array(await response.arrayBuffer())
    if (mine !== generation) return false
    board.load(bytes, version)
    say(playing ? 'Playing' : 'Paused', playing ? 'playing' : 'spectating')
    show()
    return true
  }

  function page(since, until) {
    return fetch(`/api/canvas/${canvas.id}/history?since=${since}&until=${until}`)
      .then(expectOk)
      .then((response) => response.arrayBuffer())
      .then(parseDelta)
  }

  async function run() {
    const mine = ++generation
    playing = true
    say('Playing', 'playing')
    show()
    try {
      let next = null
      while (mine === generation) {
        if (board.version >= canvas.version) {
          canvas = await getJson(`/api/canvas/${canvas.id}`) // it may have gone on meanwhile
          if (board.version >= canvas.version) break
        }
        const step = Math.min(MAX_PAGE, Math.max(1, Math.round(Number(speed.value) / TICKS_PER_S)))
        const since = board.version
        const until = Math.min(canvas.version, since + step)
        const fetching = next?.since === since && next.until === until ? next.delta : page(since, until)
        const after = Math.min(canvas.version, until + step)
        next = after > until ? { since: until, until: after, delta: page(until, after) } : null
        next?.delta.catch(() => {}) // a prefetch that fails is fetched again when due
        const [delta] = await Promise.all([fetching, tick()])
        if (mine !== generation) return
        board.apply(delta)
        show()
      }
    } catch (error) {
      if (mine === generation) report(error)
      return
    } finally {
      if (mine === generation) {
        playing = false
        show()
      }
    }
    if (mine === generation) say('End of the history', 'spectating')
  }

  function pause() {
    generation++
    playing = false
    say('Paused', 'spectating')
    show()
  }

  function report(error) {
    console.warn(error)
    playing = false
    say(error instanceof ApiFailure ? error.message : 'Offline: the history did not load', 'offline')
    show()
  }

  play.addEventListener('click', async () => {
    if (playing) return pause()
    if (board.version >= canvas.version && !(await seek(1).catch(report))) return
    run()
  })
  slider.addEventListener('input', () => {
    $('version').textContent = `version ${Number(slider.value).toLocaleString()} of ${canvas.version.toLocaleString()}`
  })
  slider.addEventListener('change', () => {
    const wasPlaying = playing
    if (playing) pause()
    seek(Number(slider.value)).then((done) => done && wasPlaying && run()).catch(report)
  })
  speed.addEventListener('change', show)

  const start = Number(new URLSearchParams(location.search).get('version') ?? canvas.version)
  await seek(Math.min(canvas.version, Math.max(1, Math.trunc(start) || canvas.version)))
  for (const control of [play, slider, speed]) control.disabled = false
  Object.assign(tessera, {
    pixel: (x, y) => board.pixel(x, y),
    seek: (version) => seek(version),
    play: () => (playing ? undefined : run()),
    pause,
    canvas,
  })
}

function tick() {
  return new Promise((resolve) => setTimeout(resolve, 1000 / TICKS_PER_S))
}

/** The whole board in the stage, as large as fits, each board pixel a crisp square. */
function fitBoard({ width, height }) {
  const stage = $('stage').getBoundingClientRect()
  const scale = Math.max(1, Math.floor(Math.min((stage.width - 32) / width, (stage.height - 32) / height)))
  const style = $('board').style
  style.width = `${width * scale}px`
  style.height = `${height * scale}px`
}
