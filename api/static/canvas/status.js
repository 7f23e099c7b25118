/** The status line (spectating, in queue, playing, AFK) and the version/connection badge. */

const CONNECTION_TEXT = {
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'polling',
  offline: 'offline',
}

export function renderStatus({ status, playAgain }, game, session, canvas) {
  const state = game.state
  status.dataset.state = state
  playAgain.hidden = state !== 'afk'
  status.textContent = statusText(game, session, canvas)
}

function statusText(game, session, canvas) {
  switch (game.state) {
    case 'connecting':
      return 'Connecting…'
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
