/** The editor: sign in, list and create games, edit a game's details and tasks (with images and
 * a live preview of what players see), start a session. */

import { showGoogleButton, showTelegramButton } from '../canvas/providers.js'
import { Session } from '../canvas/session.js'
import { $, SHAPES, el, imageNode } from './common.js'

const session = new Session()
const editor = { game: null, ready: null }
window.quiz = editor
window.tessera = {
  signInWithGoogle: (token) => session.signInWithGoogle(token),
  signInWithTelegram: (fields) => session.signInWithTelegram(fields),
}
let game = null
let editing = null // task id
let taskImage = null
let options = []

function show(problem) {
  $('problem').textContent = problem ?? ''
  $('problem').hidden = !problem
}

async function api(method, url, body) {
  const init = { method, headers: {} }
  if (body instanceof Blob) {
    init.body = body
    init.headers['Content-Type'] = body.type || 'application/octet-stream'
  } else if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers['Content-Type'] = 'application/json'
  }
  const response = await session.fetch(url, init)
  const answer = response.status === 204 ? null : await response.json()
  if (!response.ok) {
    show(answer?.detail ? `${answer.error}: ${typeof answer.detail === 'string' ? answer.detail : JSON.stringify(answer.detail)}` : `HTTP ${response.status}`)
    throw new Error(answer?.error ?? String(response.status))
  }
  show(null)
  return answer
}

function authHeaders() {
  const tokens = JSON.parse(localStorage.getItem('tessera.session') ?? 'null')
  return tokens ? { Authorization: `Bearer ${tokens.access}` } : {}
}

async function upload(file) {
  const image = await api('PUT', '/api/quiz/images', file)
  return image.id
}

async function signInButtons() {
  const account = session.account
  $('signed-in').hidden = account === null
  $('sign-in').hidden = account !== null
  $('account-name').textContent = account?.display_name ?? ''
  $('games').hidden = account === null
  if (account === null) {
    $('game').hidden = true
    const config = await (await fetch('/api/config')).json().catch(() => ({}))
    const failed = () => { $('no-sign-in').textContent = 'Sign-in is unavailable right now.'; $('no-sign-in').hidden = false }
    if (config.google_client_id && !$('google-button').dataset.shown) {
      $('google-button').dataset.shown = 'yes'
      showGoogleButton($('google-button'), config.google_client_id, failed)
    }
    if (config.telegram_bot_username && !$('telegram-button').dataset.shown) {
      $('telegram-button').dataset.shown = 'yes'
      showTelegramButton($('telegram-button'), config.telegram_bot_username, failed)
    }
    if (!config.google_client_id && !config.telegram_bot_username) failed()
    return
  }
  await listGames()
}

async function listGames() {
  const mine = await api('GET', '/api/quiz/games?mine=true')
  $('my-games').replaceChildren(...mine.map((g) => el('li', {},
    el('a', { href: '#', onclick: (e) => { e.preventDefault(); open(g.id) }, text: `${g.title} (${g.tasks} tasks${g.public ? ', public' : ''})` }))))
  const open_ = await api('GET', '/api/quiz/games')
  $('public-games').replaceChildren(...open_.map((g) => el('li', {}, el('span', { text: `${g.title} ` }),
    el('button', { class: 'small', onclick: async () => { const copy = await api('POST', `/api/quiz/games/${g.id}/copy`); load(copy) } }, 'Copy'))))
}

async function open(gameId) {
  load(await api('GET', `/api/quiz/games/${gameId}`))
}

function load(saved) {
  game = saved
  editor.game = saved
  $('game').hidden = false
  $('title').value = saved.title
  $('description').value = saved.description
  $('public').checked = saved.public
  $('tasks').replaceChildren(...saved.tasks.map((task, i) => el('li', { class: 'row' },
    el('a', { href: '#', onclick: (e) => { e.preventDefault(); editTask(task) }, text: `${task.text} · ${task.kind}` }),
    el('button', { class: 'small quiet', title: 'Up', onclick: () => i > 0 && change('POST', `/tasks/${task.id}/move`, { position: i - 1 }) }, '↑'),
    el('button', { class: 'small quiet', title: 'Duplicate', onclick: () => change('POST', `/tasks/${task.id}/duplicate`) }, '⧉'),
    el('button', { class: 'small quiet', title: 'Delete', onclick: () => change('DELETE', `/tasks/${task.id}`) }, '✕'))))
}

async function change(method, path, body) {
  load(await api(method, `/api/quiz/games/${game.id}${path}`, body))
}

$('new-game').addEventListener('submit', async (event) => {
  event.preventDefault()
  load(await api('POST', '/api/quiz/games', { title: $('new-title').value }))
  newTask()
  listGames()
})

$('save-details').addEventListener('click', async () => {
  const changes = { title: $('title').value, description: $('description').value, public: $('public').checked }
  const cover = $('cover').files[0]
  if (cover) changes.cover = await upload(cover)
  await change('PATCH', '', changes)
})

$('start').addEventListener('click', async () => {
  const started = await api('POST', '/api/quiz/sessions', { game_id: game.id, late_join: $('late-join').checked })
  location.href = `/quiz/host/${started.session_id}`
})

$('sign-out').addEventListener('click', () => session.signOut())
session.addEventListener('change', signInButtons)

// -- the task form ----------------------------------------------------------------------------

function defaults(kind) {
  if (kind === 'true_false') return [{ text: 'True', correct: true }, { text: 'False', correct: false }]
  if (['type_answer', 'slider'].includes(kind)) return []
  return [0, 1, 2, 3].map((i) => ({ text: '', correct: kind !== 'poll' && kind !== 'order' && i === 0 }))
}

function newTask() {
  editing = null
  taskImage = null
  $('task-form-title').textContent = 'New task'
  $('text').value = ''
  $('kind').value = 'single'
  options = defaults('single')
  fields({})
}

function editTask(task) {
  editing = task.id
  taskImage = task.image
  $('task-form-title').textContent = 'Edit task'
  $('kind').value = task.kind
  $('text').value = task.text
  $('time').value = task.time_limit_s
  $('points').value = String(task.points)
  options = task.options.map((o) => ({ ...o }))
  fields(task)
}

function fields(task) {
  const kind = $('kind').value
  const parts = []
  if (!['type_answer', 'slider'].includes(kind)) {
    parts.push(...options.map((option, i) => el('div', { class: 'row' },
      el('span', { class: 'shape', text: SHAPES[i % SHAPES.length] }),
      el('input', { value: option.text, maxlength: 120, style: 'flex:1;width:auto', 'data-option': i, oninput: (e) => { option.text = e.target.value; preview() } }),
      ['single', 'multiple', 'true_false'].includes(kind)
        ? el('label', {}, el('input', { type: kind === 'multiple' ? 'checkbox' : 'radio', name: 'correct', checked: option.correct, style: 'width:auto', onchange: (e) => {
          if (kind !== 'multiple') for (const other of options) other.correct = false
          option.correct = e.target.checked
          preview()
        } }), ' right') : '',
        el('input', { type: 'file', accept: 'image/*', style: 'width:8rem', onchange: async (e) => { option.image = await upload(e.target.files[0]); preview() } }))))
    if (kind !== 'true_false' && options.length < 6) parts.push(el('button', { type: 'button', class: 'small', onclick: () => { options.push({ text: '', correct: false }); fields(task) } }, '+ option'))
  } else if (kind === 'type_answer') {
    parts.push(el('label', { text: 'Accepted answers (comma-separated)' }), el('input', { id: 'accepted', value: (task.accepted ?? []).join(', '), oninput: preview }))
  } else {
    const s = task.slider ?? { min: 0, max: 100, answer: 50, tolerance: 0 }
    parts.push(el('div', { class: 'row' }, ...['min', 'max', 'answer', 'tolerance'].map((name) =>
      el('label', {}, `${name} `, el('input', { id: `slider-${name}`, type: 'number', step: 'any', value: s[name], style: 'width:6rem', oninput: preview })))))
  }
  $('kind-fields').replaceChildren(...parts)
  preview()
}

$('kind').addEventListener('change', () => { options = defaults($('kind').value); fields({}) })
$('text').addEventListener('input', preview)
$('new-task').addEventListener('click', newTask)
$('task-image').addEventListener('change', async (e) => { taskImage = await upload(e.target.files[0]); preview() })

function taskBody() {
  const kind = $('kind').value
  const body = { kind, text: $('text').value, time_limit_s: Number($('time').value), points: Number($('points').value), image: taskImage }
  if (kind === 'type_answer') body.accepted = ($('accepted')?.value ?? '').split(',').map((a) => a.trim()).filter(Boolean)
  else if (kind === 'slider') body.slider = Object.fromEntries(['min', 'max', 'answer', 'tolerance'].map((n) => [n, Number($(`slider-${n}`).value)]))
  else body.options = options.map((o) => ({ text: o.text, correct: o.correct, image: o.image ?? null }))
  if (kind === 'poll') body.points = 0
  return body
}

function preview() {
  const body = taskBody()
  const parts = [el('p', { class: 'task-text', text: body.text || '…' })]
  if (body.image) parts.push(imageNode(body.image, authHeaders()))
  if (body.options) {
    parts.push(el('div', { class: 'answers' }, ...body.options.map((o, i) => el('button', { type: 'button', class: `answer${o.correct ? ' right' : ''}`, 'data-colour': String(i % SHAPES.length) },
      el('span', { class: 'shape', text: SHAPES[i % SHAPES.length] }), el('span', { text: o.text }), o.image ? imageNode(o.image, authHeaders(), 'option-image') : ''))))
  } else if (body.slider) {
    parts.push(el('input', { type: 'range', min: body.slider.min, max: body.slider.max, disabled: true }))
  } else {
    parts.push(el('input', { placeholder: 'Players type here', disabled: true }))
  }
  parts.push(el('p', { class: 'quiet', text: `${body.time_limit_s} s · ${body.points} points` }))
  $('preview').replaceChildren(...parts)
}

$('task-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  if (editing) await change('PUT', `/tasks/${editing}`, taskBody())
  else await change('POST', '/tasks', taskBody())
  newTask()
})

newTask()
editor.ready = signInButtons()
