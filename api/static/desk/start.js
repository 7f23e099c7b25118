/**
 * `/desk`: create a desk, or open one of yours by name (a desk this browser or the signed-in
 * account created or opened before; any other name is unknown, and the page asks before creating it), then go to its link.
 * Below, the desks this browser opened lately.
 */

import { account, postAsAccount } from './account.js'
import { recentDesks } from './recent.js'
import { remember } from './session.js'
import { registerWorker } from './worker.js'

const $ = (id) => document.getElementById(id)
const form = $('open')

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  const name = form.elements.name.value.trim()
  if (name === '') return
  if (event.submitter?.value === 'new') await go(name, true)
  else await go(name, false)
})
$('ask-create').addEventListener('click', () => go($('ask').dataset.name, true))
$('ask-cancel').addEventListener('click', () => {
  $('ask').hidden = true
  form.elements.name.focus()
})

async function go(name, createNew) {
  $('problem').hidden = true
  $('ask').hidden = true
  setBusy(true)
  try {
    const opened = await postAsAccount('/api/desk/init', { name, create_new: createNew })
    remember(opened)
    location.assign(`/desk/${opened.desk_id}`)
  } catch (error) {
    setBusy(false)
    if (error.code === 'desk_not_found') ask(name)
    else say(error instanceof TypeError ? 'The server cannot be reached: are you offline?' : error.message)
  }
}

function ask(name) {
  $('ask').dataset.name = name
  $('ask-text').textContent = `You have no desk named “${name}” in this browser${account.signedIn ? ' or account' : ''}. Create a new desk with that name?`
  $('ask').hidden = false
  $('ask-create').focus()
}

function say(text) {
  $('problem').textContent = text
  $('problem').hidden = false
}

function setBusy(busy) {
  for (const button of document.querySelectorAll('button')) button.disabled = busy
}

function showRecent() {
  const desks = recentDesks()
  $('recent').hidden = desks.length === 0
  const list = $('recent-list')
  list.replaceChildren(...desks.map((desk) => {
    const item = document.createElement('li')
    const link = document.createElement('a')
    link.href = `/desk/${encodeURIComponent(desk.id)}`
    link.textContent = desk.name || 'Untitled desk'
    const when = document.createElement('time')
    when.dateTime = new Date(desk.at).toISOString()
    when.textContent = ago(desk.at)
    item.append(link, when)
    return item
  }))
}

function ago(ms) {
  const minutes = Math.round((Date.now() - ms) / 60_000)
  if (minutes < 1) return 'just now'
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 24) return `${hours} h ago`
  return new Date(ms).toLocaleDateString()
}

showRecent()
registerWorker()
