/** News and errors told to people: a short sentence in a toast that goes away by itself. */

const SHOWN_MS = 4_000

const waitText = (error) => `Wait ${Math.ceil((error.waitMs ?? 0) / 1000)} s before your next pixel.`

const MESSAGES = {
  cooldown: waitText,
  cooldown_active: waitText,
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

export function showToast(text) {
  const toast = document.getElementById('toast')
  toast.textContent = text
  toast.hidden = false
  clearTimeout(timer)
  timer = setTimeout(() => {
    toast.hidden = true
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
