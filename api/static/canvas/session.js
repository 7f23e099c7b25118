/**
 * Who is signed in: the token pair, kept in localStorage, refreshed before the access token
 * expires, and shared by the tabs of this origin (a refresh token works once: tabs take turns
 * through a lock, and one that finds a newer pair stored adopts it instead of refreshing).
 */

import { ApiFailure, expectOk, failureOf, jsonRequest, postJson } from '../api.js'

const KEY = 'tessera.session'
const RETRY_REFRESH_MS = 30_000
const TELEGRAM_FIELDS = ['id', 'first_name', 'last_name', 'username', 'photo_url', 'auth_date', 'hash']

export class Session extends EventTarget {
  #tokens = read()
  #timer = null
  #refreshing = null

  constructor() {
    super()
    addEventListener('storage', (event) => {
      if (event.key === KEY || event.key === null) this.#adopt(read())
    })
    this.#schedule()
  }

  get signedIn() {
    return this.#tokens !== null
  }

  /** The access token to show the server (a socket's hello), or null when signed out. */
  get accessToken() {
    return this.#tokens?.access ?? null
  }

  /** `{id, display_name, roles}` of the signed-in account, or null. */
  get account() {
    return this.#tokens?.account ?? null
  }

  signInWithGoogle(idToken) {
    return this.#signIn('/api/auth/google', { id_token: idToken })
  }

  /** The Login Widget's callback fields, as it gives them. */
  signInWithTelegram(fields) {
    return this.#signIn('/api/auth/telegram', { widget: widgetOf(fields) })
  }

  /** A new guest account under a nickname (when the server takes guests). */
  signInAsGuest(name) {
    return this.#signIn('/api/auth/guest', { name })
  }

  /** Whether the signed-in account is a guest's (no Google or Telegram linked yet). */
  get isGuest() {
    return this.account?.kind === 'guest'
  }

  /** Add Google or Telegram to the signed-in account: a guest keeps its account this way. */
  async link(provider, credential) {
    const body = provider === 'google' ? { id_token: credential } : { widget: widgetOf(credential) }
    const response = await expectOk(
      await this.fetch(`/api/me/identities/${provider}`, jsonRequest('POST', body)))
    const linked = await response.json()
    const tokens = this.#tokens
    if (tokens !== null) {
      this.#tokens = { ...tokens, account: { ...tokens.account, kind: linked.kind } }
      write(this.#tokens)
      this.dispatchEvent(new Event('change'))
    }
    return linked
  }

  /** A Telegram Mini App's `initData`, as `window.Telegram.WebApp` gives it. */
  signInWithTelegramMiniApp(initData) {
    return this.#signIn('/api/auth/telegram', { init_data: initData })
  }

  async signOut() {
    const tokens = this.#tokens
    this.#adopt(null, { store: true })
    if (tokens === null) return
    try {
      await postJson('/api/auth/logout', { refresh_token: tokens.refresh })
    } catch {
      // Signed out here either way; the server's session ends when its tokens expire.
    }
  }

  /** `fetch` as the signed-in account; a 401 is retried once, after a refresh. */
  async fetch(url, init = {}) {
    const response = await fetch(url, this.#authorised(init))
    if (response.status !== 401 || this.#tokens === null) return response
    await this.refresh()
    return fetch(url, this.#authorised(init))
  }

  /** A new token pair; a refused refresh signs out (and throws). */
  refresh() {
    this.#refreshing ??= this.#refreshOnce().finally(() => {
      this.#refreshing = null
    })
    return this.#refreshing
  }

  async #signIn(url, body) {
    const pair = await postJson(url, body)
    this.#adopt(tokensOf(pair), { store: true })
    return pair.account
  }

  async #refreshOnce() {
    const used = this.#tokens
    if (used === null) throw new ApiFailure(401, { error: 'unauthenticated', detail: 'sign in to play' })
    const run = async () => {
      const stored = read()
      if (stored !== null && stored.refresh !== used.refresh) {
        this.#adopt(stored) // another tab refreshed first
        return
      }
      const response = await fetch('/api/auth/refresh', jsonRequest('POST', { refresh_token: used.refresh }))
      if (response.status === 401 || response.status === 403) {
        const failure = await failureOf(response)
        this.#adopt(null, { store: true })
        throw failure
      }
      await expectOk(response)
      this.#adopt(tokensOf(await response.json()), { store: true })
    }
    return navigator.locks ? navigator.locks.request('tessera.refresh', run) : run()
  }

  #authorised(init) {
    const headers = new Headers(init.headers)
    if (this.#tokens !== null) headers.set('Authorization', `Bearer ${this.#tokens.access}`)
    return { ...init, headers }
  }

  #adopt(tokens, { store = false } = {}) {
    const before = this.#tokens?.account?.id ?? null
    this.#tokens = tokens
    if (store) write(tokens)
    this.#schedule()
    if ((tokens?.account?.id ?? null) !== before) this.dispatchEvent(new Event('change'))
  }

  #schedule() {
    clearTimeout(this.#timer)
    const tokens = this.#tokens
    if (tokens === null) return
    const lifetime = tokens.accessExpiresAt - tokens.issuedAt
    const early = Math.min(60_000, lifetime / 4)
    const delay = Math.max(1_000, tokens.accessExpiresAt - early - Date.now())
    this.#timer = setTimeout(() => {
      this.refresh().catch((error) => {
        if (error instanceof ApiFailure) return // refused: signed out already
        this.#timer = setTimeout(() => this.#schedule(), RETRY_REFRESH_MS) // offline: try again
      })
    }, delay)
  }
}

function widgetOf(fields) {
  const widget = {}
  for (const name of TELEGRAM_FIELDS) {
    if (fields?.[name] !== undefined && fields[name] !== null) widget[name] = fields[name]
  }
  return widget
}

function tokensOf(pair) {
  const now = Date.now()
  return {
    access: pair.access_token,
    refresh: pair.refresh_token,
    issuedAt: now,
    accessExpiresAt: now + pair.expires_in * 1000,
    refreshExpiresAt: now + pair.refresh_expires_in * 1000,
    account: pair.account,
  }
}

function read() {
  try {
    const tokens = JSON.parse(localStorage.getItem(KEY) ?? 'null')
    if (tokens === null || typeof tokens.refresh !== 'string') return null
    return tokens.refreshExpiresAt > Date.now() ? tokens : null
  } catch {
    return null
  }
}

function write(tokens) {
  try {
    if (tokens === null) localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, JSON.stringify(tokens))
  } catch {
    // storage refused (private mode, quota): this tab stays signed in until it closes
  }
}
