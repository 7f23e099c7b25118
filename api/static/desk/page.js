/**
 * What the desk page tells its user apart from the board: the full-page states (a desk that is
 * not there, has expired, or cannot be reached), the passing problem toast, the session banner
 * and short confirmations.
 */

const $ = (id) => document.getElementById(id)

const STATES = {
  desk_not_found: ['There is no desk at this link', 'Check the link you were given, or start a desk of your own.'],
  desk_gone: ['This desk has expired', 'Desks close a week after their last edit, and this one has. Start a new one: it is free and takes a second.'],
  offline: ['You are offline', 'This browser has not opened this desk before, so there is nothing of it to show until the network is back.'],
  failed: ['The desk could not be opened', 'Something went wrong on the way. Try again in a moment.'],
}

/** Replace the board with a full-page state: `kind` one of STATES. */
export function showState(kind, detail = null) {
  const [title, text] = STATES[kind] ?? STATES.failed
  document.body.dataset.state = kind
  $('state-title').textContent = title
  $('state-text').textContent = detail ?? text
  $('state-retry').hidden = kind !== 'offline' && kind !== 'failed'
  $('state').hidden = false
  $('viewport').classList.remove('loading')
  $('sync').textContent = kind === 'offline' ? 'Offline' : 'Not available'
  $('sync').dataset.state = 'gone'
  for (const button of document.querySelectorAll('.tools button, .zoom button, #copy-link')) button.disabled = true
}

export function loaded() {
  $('viewport').classList.remove('loading')
}

/** A problem that passes: shown for a while, above everything. */
export function problem(text) {
  const element = $('problem')
  element.textContent = text
  element.classList.remove('ok')
  element.hidden = false
  clearTimeout(problem.timer)
  problem.timer = setTimeout(() => { element.hidden = true }, 8000)
}

/** A short confirmation ("Link copied"). */
export function toast(text) {
  const element = $('problem')
  element.textContent = text
  element.classList.add('ok')
  element.hidden = false
  clearTimeout(problem.timer)
  problem.timer = setTimeout(() => {
    element.hidden = true
    element.classList.remove('ok')
  }, 2500)
}

/** The session banner (about the collaboration session), until OK. */
export function notice(text) {
  $('session-text').textContent = text
  $('session').hidden = false
}
