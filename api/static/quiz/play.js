/** The player's view (a phone): join with the code and a nickname, answer each task with big
 * coloured buttons, see one's own result; after a reload or a lost connection it rejoins by
 * itself with the session id and the token kept in this browser. */

import { $, SHAPES, el, imageNode, liveUrl, podiumNode, remaining } from './common.js'

const KEY = 'tessera.quiz.player'
const quiz = { phase: 'joining', score: 0, frames: [], ready: null }
window.quiz = quiz
let socket = null
let me = JSON.parse(localStorage.getItem(KEY) ?? 'null')
let offset = 0
let countdown = null
let current = null

function show(problem) {
  $('problem').textContent = problem ?? ''
  $('problem').hidden = !problem
}

function imageHeaders() {
  return me ? { 'X-Quiz-Player': me.token } : {}
}

$('join').addEventListener('submit', async (event) => {
  event.preventDefault()
  show(null)
  const response = await fetch('/api/quiz/join', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: $('code').value, nickname: $('nickname').value }),
  })
  const body = await response.json()
  if (!response.ok) return show(body.detail)
  me = { session_id: body.session_id, player_id: body.player_id, token: body.token }
  localStorage.setItem(KEY, JSON.stringify(me))
  connect()
})

function forget(why) {
  localStorage.removeItem(KEY)
  me = null
  quiz.phase = 'joining'
  $('screen').replaceChildren()
  $('join').hidden = false
  show(why)
}

function connect() {
  $('join').hidden = true
  socket = new WebSocket(liveUrl(me.session_id))
  socket.onopen = () => socket.send(JSON.stringify({
    type: 'hello', role: 'player', player_id: me.player_id, token: me.token,
  }))
  socket.onmessage = (message) => handle(JSON.parse(message.data))
  socket.onclose = (event) => {
    if (me === null) return
    if (event.code === 4403 || event.code === 4404) return forget(event.code === 4403
      ? 'The host removed you from this game.' : 'That game is over.')
    setTimeout(connect, 1000)
  }
}

function send(message) {
  socket.send(JSON.stringify(message))
}

function handle(frame) {
  quiz.frames.push(frame.type)
  if (frame.server_ms) offset = frame.server_ms - Date.now()
  switch (frame.type) {
    case 'state': return restore(frame)
    case 'task': return showTask(frame, false)
    case 'results': return showResult(frame.you, frame)
    case 'ended': return showEnd(frame.you, frame.podium)
    case 'paused': return status('Paused by the host')
    case 'resumed': return current && tick(frame.deadline_ms)
    case 'ack': return status('Answer in! Waiting for the others…')
    case 'kicked': return forget('The host removed you from this game.')
    case 'error': return show(frame.detail)
    default: return undefined
  }
}

function restore(state) {
  $('who').textContent = state.you.nickname
  setScore(state.you.score)
  quiz.phase = state.phase
  if (state.phase === 'lobby') {
    $('screen').replaceChildren(el('div', { class: 'card' },
      el('p', { class: 'big', text: "You're in!" }),
      el('p', { class: 'quiet', text: 'See your name on the screen? The game starts soon.' })))
  } else if (state.phase === 'question') {
    showTask(state.task, state.answered)
    if (state.paused) status('Paused by the host')
  } else if (state.phase === 'results') {
    showResult(state.you.result, state.results)
  } else {
    showEnd(state.you.final, state.ended.podium)
  }
  quiz.ready = true
}

function setScore(score) {
  quiz.score = score
  $('score').textContent = `${score} points`
}

function status(text) {
  const line = $('status-line')
  if (line) line.textContent = text
}

function tick(deadlineMs) {
  clearInterval(countdown)
  const draw = () => {
    const left = remaining(deadlineMs, offset)
    const node = $('countdown')
    if (node) node.textContent = Math.ceil(left / 1000)
    if (left <= 0) clearInterval(countdown)
  }
  draw()
  countdown = setInterval(draw, 250)
}

function showTask(frame, answered) {
  quiz.phase = 'question'
  quiz.task = frame.index
  current = frame
  show(null)
  const task = frame.task
  const parts = [
    el('div', { class: 'row' }, el('span', { class: 'quiet', text: `${task.index + 1} / ${task.count}` }),
      el('span', { id: 'countdown', class: 'countdown', style: 'margin-left:auto' })),
    el('p', { class: 'task-text', text: task.text }),
  ]
  if (task.image) parts.push(imageNode(task.image, imageHeaders()))
  parts.push(answered ? el('p', { text: 'Answer in! Waiting for the others…' }) : answerInput(frame))
  parts.push(el('p', { id: 'status-line', class: 'quiet' }))
  $('screen').replaceChildren(el('div', { class: 'card' }, ...parts))
  tick(frame.deadline_ms)
}

function answered(index, answer) {
  send({ type: 'answer', index, answer })
  for (const button of $('screen').querySelectorAll('button, input')) button.disabled = true
}

function answerInput(frame) {
  const { task, index } = frame
  const options = task.options ?? []
  if (['single', 'true_false', 'poll'].includes(task.kind)) {
    return el('div', { class: 'answers' }, ...options.map((option, i) => optionButton(option, i,
      () => answered(index, option.id))))
  }
  if (task.kind === 'multiple') {
    const picked = new Set()
    const buttons = options.map((option, i) => optionButton(option, i, (event) => {
      const button = event.currentTarget
      if (picked.has(option.id)) picked.delete(option.id)
      else picked.add(option.id)
      button.classList.toggle('picked')
    }))
    return el('div', {}, el('div', { class: 'answers' }, ...buttons),
      el('button', { class: 'primary', onclick: () => answered(index, [...picked]) }, 'Submit'))
  }
  if (task.kind === 'order') {
    const order = options.map((option) => option.id)
    const list = el('ol', { class: 'task-list' })
    const draw = () => list.replaceChildren(...order.map((id, position) => {
      const option = options.find((o) => o.id === id)
      return el('li', { class: 'row' }, el('span', { text: option.text }),
        el('button', { class: 'small', onclick: () => { if (position > 0) { [order[position - 1], order[position]] = [order[position], order[position - 1]]; draw() } } }, '↑'))
    }))
    draw()
    return el('div', {}, list, el('button', { class: 'primary', onclick: () => answered(index, order) }, 'Submit'))
  }
  if (task.kind === 'slider') {
    const range = el('input', { type: 'range', min: task.slider.min, max: task.slider.max, step: 'any', value: task.slider.min })
    const value = el('span', { class: 'big', text: range.value })
    range.addEventListener('input', () => { value.textContent = Number(range.value).toFixed(1) })
    return el('div', {}, range, value, el('button', { class: 'primary', onclick: () => answered(index, Number(range.value)) }, 'Submit'))
  }
  const input = el('input', { id: 'typed', maxlength: 200, autocomplete: 'off' })
  return el('form', { onsubmit: (event) => { event.preventDefault(); answered(index, input.value) } },
    input, el('button', { class: 'primary', type: 'submit' }, 'Submit'))
}

function optionButton(option, i, onclick) {
  const colour = String(i % SHAPES.length)
  const parts = [el('span', { class: 'shape', text: SHAPES[i % SHAPES.length] }), el('span', { text: option.text })]
  if (option.image) parts.push(imageNode(option.image, imageHeaders(), 'option-image'))
  return el('button', { class: 'answer', 'data-colour': colour, 'data-option': option.id, onclick }, ...parts)
}

function showResult(you, results) {
  quiz.phase = 'results'
  clearInterval(countdown)
  current = null
  if (you?.total !== undefined) setScore(you.total)
  const verdict = !you?.answered ? ['wrong', 'No answer'] : you.right === null ? ['', 'Thanks for voting'] : you.right ? ['right', 'Right!'] : ['wrong', 'Not this time']
  $('screen').replaceChildren(el('div', { class: 'card' },
    el('p', { class: `verdict ${verdict[0]}`, id: 'verdict', text: verdict[1] }),
    el('p', { class: 'big', text: you?.answered ? `+${(you.points ?? 0) + (you.bonus ?? 0)}` : '+0' }),
    el('p', { text: you?.rank ? `You are #${you.rank} · streak ${you.streak}` : '' }),
    el('p', { class: 'quiet', text: results?.reason === 'skipped' ? 'The host skipped this task.' : '' })))
}

function showEnd(final, podium) {
  quiz.phase = 'ended'
  clearInterval(countdown)
  if (final?.score !== undefined) setScore(final.score)
  $('screen').replaceChildren(el('div', { class: 'card' },
    el('p', { class: 'big', id: 'final', text: final?.rank ? `You finished #${final.rank}` : 'Game over' }),
    el('p', { text: final?.score !== undefined ? `${final.score} points · ${final.right} right of ${final.answered} answered` : '' }),
    podiumNode(podium ?? [])))
}

if (me) connect()
else $('join').hidden = false
const code = new URLSearchParams(location.search).get('code')
if (code) $('code').value = code
