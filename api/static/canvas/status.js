/** The status line (spectating, in queue, playing, AFK, offline), the version/connection badge,
 *  and why Place is disabled when it is. */

const CONNECTION_TEXT = {
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'polling',
  offline: 'offline',
}

/** `asOf`: when the board shown was last known to be the server's (ms), or null. */
export function renderStatus({ status, playAgain }, game, session, canvas, asOf = null) {
  const offline = !navigator.onLine
  const state = offline ? 'offline' : game.state
  status.dataset.state = state
  playAgain.hidden = offline || game.state !== 'afk'
  status.textContent = offline ? offlineText(asOf) : statusText(game, session, canvas)
}

function offlineText(asOf) {
  if (asOf === null) return 'Offline — waiting for the network'
  const when = new Date(asOf)
  const today = when.toDateString() === new Date().toDateString()
  const time = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
  const date = today ? '' : `${when.toLocaleDateString([], { day: 'numeric', month: 'short' })}, `
  return `Offline — board as of ${date}${time}`
}

function statusText(game, session, canvas) {
  switch (game.state) {
    case 'connecting':
      return game.retryAt === null ? 'Connecting…' : 'Reconnecting…'
    case 'queued':
      return `In queue: position ${game.position ?? '?'} of ${game.queueLength ?? '?'}`
    case 'playing':
      return 'Playing' // the server's counts come only with news of our own standing: often stale
    case 'afk':
      return 'AFK —'
    default:
      if (!canvas.is_open) return 'Spectating — this canvas is closed'
      return session.signedIn ? 'Spectating' : 'Spectating — sign in to play'
  }
}

export function renderConnection(element, game, version) {
  const connection = game.connection
  element.dataset.state = connection
  let text = CONNECTION_TEXT[connection]
  const retryAt = game.retryAt
  if (connection === 'reconnecting' && retryAt !== null) {
    const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))
    if (seconds > 0) text = `reconnecting in ${seconds} s`
  }
  element.textContent = `${version === null ? 'v–' : `v${version}`} · ${text}`
}

/**
 * Whether Place may be pressed, and if not, why, in a few words: `{enabled, reason, state}`.
 * Signed out, the button opens the sign-in dialog instead.
 */
export function placeState({ game, session, canvas, selected, colour, cooldown, placing }) {
  const no = (reason, state = 'waiting') => ({ enabled: false, reason, state })
  if (!session.signedIn) return { enabled: true, reason: 'Watching: sign in to paint', state: 'signed-out' }
  if (!navigator.onLine) return no('You are offline: placing resumes when back', 'offline')
  if (!canvas.is_open) return no('This canvas is closed')
  switch (game.state) {
    case 'queued':
      return no('Waiting for your turn in the queue')
    case 'afk':
      return no('Press Play again to place')
    case 'connecting':
      return no('Reconnecting to the server…', 'offline')
  }
  if (!game.canReachServer) return no('Reconnecting to the server…', 'offline')
  if (placing) return no('Placing…')
  if (cooldown.active) return { enabled: false, reason: '', state: 'cooldown' }
  if (selected === null) return no('Tap a pixel to select it')
  if (colour === null) return no('Pick a colour')
  return { enabled: true, reason: '', state: 'ready' }
}
