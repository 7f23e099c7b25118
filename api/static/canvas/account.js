/**
 * The account corner of the header and the sign-in dialog: a guest's nickname (when the server
 * takes guests), Google's and Telegram's buttons (when configured), and for a guest, the same
 * buttons to link one of them and so keep the account.
 */

import { showGoogleButton, showTelegramButton } from './providers.js'
import { explain } from './toast.js'

const $ = (id) => document.getElementById(id)

export class AccountCorner {
  #providersShown = false
  /** The page a `?next=` asked to go back to once signed in. */
  returnsTo = undefined

  constructor(session, config) {
    this.session = session
    this.config = config
    this.dialog = $('sign-in')
    session.addEventListener('change', () => this.render())
    $('open-sign-in').addEventListener('click', () => this.open())
    $('keep-account').addEventListener('click', () => this.open())
    $('sign-in-close').addEventListener('click', () => this.dialog.close())
    $('sign-out').addEventListener('click', () => session.signOut())
    $('guest-form').addEventListener('submit', (event) => {
      event.preventDefault()
      this.#asGuest($('nickname').value)
    })
    this.render()
    this.#returnWhenSignedIn()
    if (location.hash === '#sign-in' && session.account === null) this.open()
  }

  /** `?next=/billiards` (another page's "Sign in"): back there once signed in, same site only. */
  #returnWhenSignedIn() {
    const next = new URLSearchParams(location.search).get('next')
    if (next === null) return
    let target
    try {
      target = new URL(next, location.origin)
    } catch {
      return // not an address at all
    }
    if (target.origin !== location.origin) return
    this.returnsTo = target.pathname
    const back = () => {
      if (this.session.account !== null) location.assign(target.pathname + target.search)
    }
    this.session.addEventListener('change', back)
    back()
  }

  get providers() {
    return Boolean(this.config.google_client_id || this.config.telegram_bot_username)
  }

  render() {
    const account = this.session.account
    const guest = this.session.isGuest
    $('signed-in').hidden = account === null
    $('open-sign-in').hidden = account !== null
    $('account-name').textContent = account?.display_name ?? ''
    $('guest-badge').hidden = !guest
    $('keep-account').hidden = !guest || !this.providers
    if (account !== null && !guest && this.dialog.open) this.dialog.close()
  }

  /** The dialog: to sign in, or (a guest) to link a provider and keep the account. */
  open() {
    const guest = this.session.isGuest
    const elsewhere = this.returnsTo !== undefined && !guest
    $('sign-in-title').textContent = guest ? 'Keep this account' : elsewhere ? 'Sign in' : 'Sign in to place pixels'
    $('sign-in-lead').textContent = guest
      ? 'Link Google or Telegram: your name and your pixels stay yours, on any device.'
      : elsewhere
        ? `One account for every game here; then back to ${this.returnsTo}.`
        : 'Watching needs no account. To paint, pick a way in.'
    const guests = this.config.guest_sign_in && !guest
    $('guest-form').hidden = !guests
    $('providers-divider').hidden = !guests || !this.providers
    $('sign-in-problem').hidden = true
    this.#showProviders()
    if (!this.dialog.open) this.dialog.showModal()
    if (guests) $('nickname').focus()
  }

  /** A sign-in or link failed: said in the dialog when it is open. */
  tell(error) {
    if (!this.dialog.open) return false
    const problem = $('sign-in-problem')
    problem.textContent = explain(error)
    problem.hidden = false
    return true
  }

  async #asGuest(name) {
    if (!name.trim()) {
      this.tell({ code: 'invalid_name' })
      return
    }
    try {
      await this.session.signInAsGuest(name.trim())
      this.dialog.close()
    } catch (error) {
      this.tell(error)
    }
  }

  #showProviders() {
    if (this.#providersShown) return
    this.#providersShown = true
    const note = $('no-sign-in')
    const shown = () => $('providers').querySelector('.provider') !== null
    const failed = () => {
      if (shown()) return
      note.textContent = this.config.guest_sign_in
        ? 'Google and Telegram are unavailable right now.'
        : 'Sign-in is unavailable right now.'
      note.hidden = false
    }
    const { google_client_id: google, telegram_bot_username: telegram } = this.config
    if (google) showGoogleButton($('google-button'), google, failed)
    else $('google-button').remove()
    if (telegram) showTelegramButton($('telegram-button'), telegram, failed)
    else $('telegram-button').remove()
    note.hidden = shown() || this.config.guest_sign_in
  }
}
