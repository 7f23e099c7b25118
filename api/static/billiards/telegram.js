/**
 * The Telegram Mini App's side, when the page runs inside Telegram (`window.Telegram.WebApp`):
 * theme colours onto the page's CSS variables, the MainButton and BackButton, haptic feedback.
 * Outside Telegram every call does nothing and the page's own buttons are used.
 */

const TELEGRAM_SCRIPT = 'https://telegram.org/js/telegram-web-app.js'
const THEME = {
  bg_color: '--bg', secondary_bg_color: '--panel', text_color: '--text', hint_color: '--muted',
  button_color: '--accent', button_text_color: '--accent-text',
}

let app = null
let mainHandler = null
let backHandler = null

/** Loads Telegram's script when Telegram opened the page (its data is in the URL's hash). */
export async function connect() {
  if (!window.Telegram?.WebApp && location.hash.includes('tgWebAppData')) {
    await new Promise((resolve) => {
      const script = document.createElement('script')
      script.src = TELEGRAM_SCRIPT
      script.onload = script.onerror = resolve
      document.head.append(script)
    })
  }
  app = window.Telegram?.WebApp ?? null
  if (app === null || !app.initData) {
    app = null
    return null
  }
  app.ready?.()
  app.expand?.()
  applyTheme(app.themeParams ?? {})
  app.onEvent?.('themeChanged', () => applyTheme(app.themeParams ?? {}))
  return app
}

export function inTelegram() {
  return app !== null
}

export function initData() {
  return app?.initData ?? null
}

function applyTheme(params) {
  for (const [name, variable] of Object.entries(THEME)) {
    if (params[name]) document.documentElement.style.setProperty(variable, params[name])
  }
}

/** Telegram's MainButton with `text` runs `handler`; false when not in Telegram. */
export function mainButton(text, handler) {
  if (app === null) return false
  const button = app.MainButton
  if (mainHandler !== null) button.offClick(mainHandler)
  mainHandler = handler
  button.setText(text)
  button.onClick(handler)
  button.show()
  return true
}

export function hideMainButton() {
  if (app === null) return
  if (mainHandler !== null) app.MainButton.offClick(mainHandler)
  mainHandler = null
  app.MainButton.hide()
}

export function backButton(handler) {
  if (app === null) return
  if (backHandler !== null) app.BackButton.offClick(backHandler)
  backHandler = handler
  if (handler === null) {
    app.BackButton.hide()
    return
  }
  app.BackButton.onClick(handler)
  app.BackButton.show()
}

/** `kind`: light, medium, heavy (a tap) or error, success, warning (an outcome). */
export function haptic(kind) {
  const feedback = app?.HapticFeedback
  if (!feedback) return
  if (['error', 'success', 'warning'].includes(kind)) feedback.notificationOccurred(kind)
  else feedback.impactOccurred(kind)
}
