/** News and errors told to people: a short sentence in a toast that goes away by itself. */

const SHOWN_MS = 4_000

const waitText = () => 'Your cooldown is still running: wait for the timer.'

const MESSAGES = {
  cooldown: waitText,
  cooldown_active: waitText,
  guest_sign_in_off: () => 'Guest sign-in is turned off on this server.',
  invalid_name: () => 'Pick a nickname with at least one letter or digit.',
  identity_taken: () => 'That account already belongs to another player: sign out and sign in with it.',
  not_playing: () => 'You are not playing yet: wait for your turn in the queue.',
  unauthenticated: () => 'Sign in to place pixels.',
  canvas_closed: () => 'This canvas is closed.',
  rate_limited: () => 'Slow down a little.',
  out_of_bounds: () => 'That pixel is outside the canvas.',
  unknown_colour: () => 'That colour is not in this canvas’s palette.',
  account_banned: () => 'This account is banned.',
  session_revoked: () => 'You were signed out.',
  invalid_google_token: () => 'Google sign-in failed. Try again.',
  invalid_telegram_data: () => 'Telegram sign-in failed. Try again.',
  no_answer: () => 'The server did not answer. Try again.',
}

let timer = 0
let ticker = 0

/** `text` is a string, or a function asked again every second while the toast shows (a
 *  countdown that must agree with the one on the page). */
export function showToast(text) {
  const toast = document.getElementById('toast')
  const render = () => {
    toast.textContent = typeof text === 'function' ? text() : text
  }
  render()
  toast.hidden = false
  clearTimeout(timer)
  clearInterval(ticker)
  if (typeof text === 'function') ticker = setInterval(render, 250)
  timer = setTimeout(() => {
    toast.hidden = true
    clearInterval(ticker)
  }, SHOWN_MS)
}

/** A new game started; `followed` when this page moved to it. */
export function newGameText({ title, width, height }, { followed }) {
  const game = title || `a ${width}×${height} canvas`
  return `A new game started: ${game}.${followed ? '' : ' This page stays on its canvas.'}`
}

export function explain(error) {
  if (error instanceof TypeError) return 'No connection to the server.'
  const message = MESSAGES[error?.code]
  if (message) return message(error)
  return error?.message || 'Something went wrong.'
}

/** Whether a refused placement tells how long the cooldown still runs. */
export function isCooldown(error) {
  return (error?.code === 'cooldown' || error?.code === 'cooldown_active') && error.waitMs > 0
}
