/**
 * The sign-in buttons. Google's and Telegram's scripts load only when this server names a client
 * id or a bot; their callbacks go through `window.tessera` (signing in, or a guest linking the
 * provider to keep its account), which also works without them.
 */

const GOOGLE_SCRIPT = 'https://accounts.google.com/gsi/client'
const TELEGRAM_SCRIPT = 'https://telegram.org/js/telegram-widget.js?22'

/** `onFailed` runs when the script cannot load (offline, blocked); the button is gone then. */
export function showGoogleButton(container, clientId, onFailed) {
  const script = document.createElement('script')
  script.src = GOOGLE_SCRIPT
  script.async = true
  script.onload = () => {
    const google = window.google?.accounts?.id
    if (!google) return
    google.initialize({
      client_id: clientId,
      callback: (answer) => window.tessera.useGoogle(answer.credential).catch(() => {}),
    })
    google.renderButton(container, { theme: 'filled_black', size: 'medium', shape: 'pill' })
  }
  script.onerror = () => {
    container.remove()
    onFailed()
  }
  document.head.append(script)
}

export function showTelegramButton(container, botUsername, onFailed) {
  const script = document.createElement('script')
  script.src = TELEGRAM_SCRIPT
  script.async = true
  script.dataset.telegramLogin = botUsername
  script.dataset.size = 'medium'
  script.dataset.radius = '16'
  script.dataset.userpic = 'false'
  script.dataset.onauth = 'window.tessera.useTelegram(user).catch(() => {})'
  script.onerror = () => {
    container.remove()
    onFailed()
  }
  container.append(script)
}
