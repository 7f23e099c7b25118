/** The host's screen, for a projector: the invite code while players join, each task with its
 * countdown and how many answered, the answers' distribution and the leaderboard after it, the
 * podium at the end. Runs the session with its buttons. */

import { Session } from '../canvas/session.js'
import { $, SHAPES, el, imageNode, leaderboardNode, liveUrl, podiumNode, remaining } from './common.js'

const sessionId = location.pathname.split('/').pop()
const session = new Session()
const host = { phase: null, players: [], frames: [], ready: null }
window.quizHost = host
let socket = null
let offset = 0
let countdown = null
let state = null
let task = null

function show(problem) {
  $('problem').textContent = problem ?? ''
  $('problem').hidden = !problem
}

async function accessToken() {
  let tokens = JSON.parse(localStorage.getItem('tessera.session') ?? 'null')
  if (tokens && tokens.accessExpiresAt < Date.now() + 10_000) {
    await session.refresh()
    tokens = JSON.parse(localStorage.getItem('tessera.session') ?? 'null')
  }
  return tokens?.access ?? null
}

let imageHeaders = {}

async function connect() {
  const token = await accessToken()
  if (!token) return show('Sign in on the editor (/quiz/edit) to host this game.')
  imageHeaders = { Authorization: `Bearer ${token}` }
  socket = new WebSocket(liveUrl(sessionId))
  socket.onopen = () => socket.send(JSON.stringify({ type: 'hello', role: 'host', token }))
  socket.onmessage = (message) => handle(JSON.parse(message.data))
  socket.onclose = (event) => {
    if (event.code >= 4400 && event.code < 4500) return show(`Closed: ${event.reason}`)
    setTimeout(connect, 1000)
  }
}

let current = -1

function act(action, index) {
  socket?.send(JSON.stringify({ type: 'host', action, index }))
}

// With the task meant: a double click (or a resend) moves on once.
$('next').addEventListener('click', () => act('next', current + 1))
$('skip').addEventListener('click', () => act('skip', current))
$('end').addEventListener('click', () => act('end'))
$('pause').addEventListener('click', () => act(state?.paused ? 'resume' : 'pause'))

function handle(frame) {
  host.frames.push(frame.type)
  if (frame.server_ms) offset = frame.server_ms - Date.now()
  switch (frame.type) {
    case 'state': return restore(frame)
    case 'joined':
      host.players.push(frame.player)
      return phase === 'lobby' && lobby()
    case 'kicked':
      host.players = host.players.filter((p) => p.id !== frame.player_id)
      return phase === 'lobby' && lobby()
    case 'task': return showTask(frame)
    case 'answered': return setText('answered', `${frame.count} / ${frame.of} answered`)
    case 'results': return showResults(frame)
    case 'ended': return showEnd(frame)
    case 'paused':
      state.paused = true
      $('pause').textContent = 'Resume'
      return setText('answered', 'Paused')
    case 'resumed':
      state.paused = false
      $('pause').textContent = 'Pause'
      return tick(frame.deadline_ms)
    case 'error': return show(frame.detail)
    default: return undefined
  }
}

let phase = null

function setText(id, text) {
  const node = $(id)
  if (node) node.textContent = text
}

function buttons() {
  $('next').textContent = phase === 'lobby' ? 'Start' : 'Next'
  $('next').disabled = phase === 'question' || phase === 'ended'
  $('skip').disabled = phase !== 'question'
  $('pause').disabled = phase !== 'question'
  $('end').disabled = phase === 'ended'
  host.phase = phase
}

function restore(frame) {
  state = frame
  if (frame.results) current = frame.results.index
  host.code = frame.code
  host.players = frame.players.map((p) => ({ id: p.id, nickname: p.nickname }))
  $('title').textContent = frame.title
  phase = frame.phase
  if (phase === 'lobby') lobby()
  else if (phase === 'question') showTask(frame.task, frame.answered)
  else if (phase === 'results') showResults(frame.results)
  else showEnd(frame.ended)
  host.ready = true
}

function lobby() {
  phase = 'lobby'
  buttons()
  $('screen').replaceChildren(el('div', { class: 'card' },
    el('p', { class: 'quiet', text: `Join at ${location.host}/quiz with the code` }),
    el('div', { class: 'code', id: 'code', text: state.code }),
    el('p', { text: `${host.players.length} players` }),
    el('div', { class: 'players', id: 'players' }, ...host.players.map((p) => el('span', { text: p.nickname })))))
}

function tick(deadlineMs) {
  clearInterval(countdown)
  const draw = () => {
    const left = remaining(deadlineMs, offset)
    setText('countdown', Math.ceil(left / 1000))
    if (left <= 0) clearInterval(countdown)
  }
  draw()
  countdown = setInterval(draw, 250)
}

function showTask(frame, answered = 0) {
  phase = 'question'
  current = frame.index
  task = frame.task
  buttons()
  const options = task.options ?? []
  $('screen').replaceChildren(el('div', { class: 'card' },
    el('div', { class: 'row' }, el('span', { class: 'quiet', text: `Task ${task.index + 1} of ${task.count}` }),
      el('span', { id: 'answered', class: 'quiet', style: 'margin-left:auto', text: `${answered} answered` })),
    el('div', { id: 'countdown', class: 'countdown' }),
    el('p', { class: 'task-text', id: 'task-text', text: task.text }),
    task.image ? imageNode(task.image, imageHeaders) : '',
    el('div', { class: 'answers' }, ...options.map((option, i) => el('button', { class: 'answer', 'data-colour': String(i % SHAPES.length), disabled: true },
      el('span', { class: 'shape', text: SHAPES[i % SHAPES.length] }), el('span', { text: option.text }))))))
  tick(frame.deadline_ms)
}

function showResults(frame) {
  phase = 'results'
  clearInterval(countdown)
  buttons()
  const parts = [el('p', { class: 'quiet', text: frame.reason === 'skipped' ? 'Skipped' : `${frame.answered} answered` })]
  const counts = frame.distribution.options
  if (counts && task?.options) {
    const most = Math.max(1, ...counts)
    const byId = new Map(task.options.map((o, i) => [o.id, i]))
    parts.push(el('div', { class: 'bars' }, ...counts.map((count, id) => {
      const shown = byId.get(id) ?? id
      return el('div', { class: 'bar-col', style: `height:${Math.max(12, (count / most) * 100)}%;background:var(--panel)`, text: `${SHAPES[shown % SHAPES.length]} ${count}` })
    })))
  } else if (frame.distribution.right !== undefined) {
    parts.push(el('p', { class: 'big', text: `${frame.distribution.right} right · ${frame.distribution.wrong} wrong` }))
  }
  parts.push(el('h2', { text: 'Leaderboard' }), leaderboardNode(frame.leaderboard))
  $('screen').replaceChildren(el('div', { class: 'card', id: 'results' }, ...parts))
}

function showEnd(frame) {
  phase = 'ended'
  clearInterval(countdown)
  buttons()
  $('screen').replaceChildren(el('div', { class: 'card', id: 'podium' },
    el('h2', { text: 'Podium' }), podiumNode(frame.podium),
    el('h2', { text: 'Leaderboard' }), leaderboardNode(frame.leaderboard),
    el('p', { class: 'row' }, ...['csv', 'json'].map((format) => el('button', { class: 'small', onclick: () => report(format) }, `Report (${format.toUpperCase()})`)))))
}

/** The report, fetched as the signed-in host and saved as a file. */
async function report(format) {
  const response = await session.fetch(`/api/quiz/sessions/${sessionId}/report?format=${format}`)
  if (!response.ok) return show((await response.json()).detail)
  const link = el('a', { href: URL.createObjectURL(await response.blob()), download: `quiz-${sessionId}.${format}` })
  link.click()
}

connect()
