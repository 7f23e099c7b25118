/**
 * The Mini App's social screens: friends (a share link, find by Telegram username, requests,
 * blocks), settings (language, which notifications), and the routes of the groups (`groups.js`).
 * `mountSocial` takes what the app shares (its API call, navigation, session); `routeSocial`
 * answers the paths it owns and hides its screen otherwise.
 */

import { lang, setLang, t } from './i18n.js'
import { openGroup, openGroups } from './groups.js'
import * as tg from './telegram.js'

const NOTICES = ['table_ready', 'match_invite', 'friend_request', 'match_result', 'weekly']
const APP_SCREENS = ['signin', 'home', 'match', 'join', 'club', 'stats']
const $ = (id) => document.getElementById(id)
export const social = { api: null, go: null, session: null, problem: null, me: null }

/** An element: `el('button', { type: 'button', onclick }, 'text', child…)`. */
export function el(tag, props = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(props)) {
    if (name === 'dataset') Object.assign(element.dataset, value)
    else if (name in element) element[name] = value
    else element.setAttribute(name, value)
  }
  element.append(...children.filter((child) => child !== null && child !== undefined))
  return element
}

/** A button that runs `action`, showing its failure. */
export function action(label, run, props = {}) {
  return el('button', {
    type: 'button', ...props,
    onclick: async () => {
      try {
        await run()
      } catch (error) {
        social.problem(error)
      }
    },
  }, label)
}

/** An invite link as text to copy and as a QR code (drawn by the server). */
export function linkWithQr(path) {
  const url = `${location.origin}${path}`
  const input = el('input', { readOnly: true, value: url, className: 'link' })
  input.onfocus = () => input.select()
  const copy = action(t('copy'), async () => {
    await navigator.clipboard?.writeText(url)
    tg.haptic('success')
  }, { className: 'small' })
  const qr = el('img', {
    className: 'qr', alt: t('qr'), width: 180, height: 180,
    src: `/api/billiards/qr.svg?path=${encodeURIComponent(path)}`,
  })
  return el('div', { className: 'share' }, el('div', { className: 'row' }, input, copy), qr)
}

/** The social screen with `children`; the app's own screens hidden. */
export function showSocial(title, ...children) {
  for (const id of APP_SCREENS) $(id).hidden = true
  const screen = $('social')
  screen.hidden = false
  screen.replaceChildren(el('h2', {}, title), ...children)
  social.problem('')
  tg.hideMainButton()
  tg.backButton(() => social.go('/billiards'))
  return screen
}

/** `read()` again (the read models follow the commands by a moment) until `ok(result)`, for
 * about 3 s at most; then what it last read. A read that fails is tried again the same way. */
export async function eventually(read, ok = () => true) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await read()
      if (ok(result) || attempt >= 20) return result
    } catch (error) {
      if (attempt >= 20 || error?.status !== 404) throw error
    }
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
}

/** `screen` holds `children` now (those that are null or undefined left out). */
export function fill(screen, ...children) {
  screen.replaceChildren(...children.filter((child) => child !== null && child !== undefined))
}

export function loading() {
  return el('p', { className: 'muted' }, t('loading'))
}

export function mountSocial({ api, go, session, problem }) {
  Object.assign(social, { api, go, session, problem })
  const nav = $('social-nav')
  nav.replaceChildren(
    ...[['/billiards', 'navHome'], ['/billiards/friends', 'navFriends'],
      ['/billiards/groups', 'navGroups'], ['/billiards/settings', 'navSettings']].map(
      ([path, key]) => el('a', {
        href: path, dataset: { t: key },
        onclick: (event) => { event.preventDefault(); go(path) },
      }, t(key)),
    ),
  )
  if (session.signedIn) social.ready = ensureProfile()
}

/** The caller's billiards profile, made (or brought up to date) once per visit; inside
 * Telegram it carries the signed `initData`, so friends find him by username. */
async function ensureProfile() {
  const body = { name: social.session.account?.display_name || 'Player' }
  if (tg.inTelegram()) body.init_data = tg.initData()
  try {
    social.me = await social.api('PUT', '/api/billiards/me', body)
  } catch (error) {
    social.problem(error)
  }
  return social.me
}

/** Handles `/billiards/{friends,add,groups,group,settings}`; null for the app's own paths. */
export function routeSocial(parts) {
  const [, kind, id] = parts
  $('social-nav').hidden = social.session?.account === null
  const owned = ['friends', 'add', 'groups', 'group', 'settings'].includes(kind)
  if (!owned) {
    $('social').hidden = true
    return null
  }
  if (social.session.account === null) return null // the app shows its sign-in
  const open = {
    friends: () => openFriends(),
    add: () => openAdd(id),
    groups: () => openGroups(),
    group: () => openGroup(id),
    settings: () => openSettings(),
  }[kind]
  return (social.ready ?? Promise.resolve()).then(open).catch(social.problem)
}

// -- friends -----------------------------------------------------------------------------------

async function openFriends(expect = () => true) {
  const screen = showSocial(t('friends'), loading())
  const [me, rows] = await Promise.all([
    social.me ?? social.api('GET', '/api/billiards/me'),
    eventually(() => social.api('GET', '/api/billiards/friends'), expect),
  ])
  const find = el('form', { id: 'find-friend', className: 'row' },
    el('input', { id: 'friend-username', placeholder: t('usernamePlaceholder'),
      autocomplete: 'off', maxLength: 33 }),
    el('button', { type: 'submit', className: 'primary' }, t('addFriend')))
  find.onsubmit = async (event) => {
    event.preventDefault()
    const username = $('friend-username').value.trim()
    if (!username) return
    try {
      const asked = await social.api('POST', '/api/billiards/friends/requests', { username })
      tg.haptic('success')
      await openFriends((rows) => rows.some((row) => row.account === asked.account))
    } catch (error) {
      social.problem(error)
    }
  }
  const sections = [
    ['incoming', t('incoming')], ['friend', t('friendsList')], ['outgoing', t('outgoing')],
    ['blocked', t('blocked')],
  ].map(([state, title]) => friendList(state, title, rows.filter((row) => row.state === state)))
  fill(screen,
    el('h2', {}, t('friends')),
    el('p', { className: 'muted' }, t('shareLink')),
    linkWithQr(`/billiards/add/${me.share_code}`),
    el('label', { htmlFor: 'friend-username' }, t('findByUsername')), find,
    ...sections,
    rows.length === 0 ? el('p', { className: 'muted', id: 'no-friends' }, t('noFriends')) : null,
    rows.some((row) => row.state === 'friend') ? await friendsBoard(rows) : null,
  )
}

/** Me and my friends: the ranked first, then those without a rated match yet. */
async function friendsBoard(rows) {
  const board = await social.api('GET', '/api/billiards/friends/leaderboard')
  const names = new Map(rows.map((row) => [row.account, row.name]))
  names.set(social.session.account.id, social.session.account.display_name)
  const list = el('ul', { className: 'list plain' },
    ...board.players.map((player) => el('li', {},
      (player.rank != null ? `${player.rank}. ` : '') + (player.name ?? names.get(player.account) ?? player.account),
      player.rating != null ? el('span', { className: 'muted' }, ` ${player.rating}`) : null)))
  return el('div', { id: 'friends-leaderboard' }, el('h3', {}, t('leaderboard')),
    board.ranked ? null : el('p', { className: 'muted' }, t('notRankedYet')), list)
}

function friendList(state, title, rows) {
  if (rows.length === 0) return null
  const buttons = {
    incoming: (row) => [friendAct(t('accept'), row, 'accept', 'primary'),
      friendAct(t('decline'), row, 'decline'), friendAct(t('block'), row, 'block', 'quiet')],
    friend: (row) => [friendAct(t('remove'), row, '', 'quiet', 'DELETE'),
      friendAct(t('block'), row, 'block', 'quiet')],
    outgoing: (row) => [friendAct(t('cancel'), row, 'cancel', 'quiet')],
    blocked: (row) => [friendAct(t('unblock'), row, 'block', 'quiet', 'DELETE')],
  }[state]
  return el('div', { className: 'friends', dataset: { state } },
    el('h3', {}, title),
    el('ul', { className: 'list plain' }, ...rows.map((row) => el('li', {
      className: 'row', dataset: { account: row.account },
    }, el('span', { className: 'grow' }, row.name,
      row.username ? el('span', { className: 'muted' }, ` @${row.username}`) : null),
    ...buttons(row)))))
}

function friendAct(label, row, verb, className = '', method = 'POST') {
  const path = `/api/billiards/friends/${encodeURIComponent(row.account)}${verb ? `/${verb}` : ''}`
  return action(label, async () => {
    await social.api(method, path)
    tg.haptic('light')
    const before = row.state
    await openFriends((rows) => rows.find((other) => other.account === row.account)?.state !== before)
  }, { className: `small ${className}` })
}

/** A share link opened: whose it is, and a button to ask him. */
async function openAdd(code) {
  const screen = showSocial(t('addFriend'), loading())
  const found = await eventually(() => social.api('POST', '/api/billiards/friends/find', { code }))
  fill(screen,
    el('h2', {}, t('addFriend')),
    el('p', { id: 'add-name', className: 'big-name' }, found.name),
    action(t('askFriend', found.name), async () => {
      await social.api('POST', '/api/billiards/friends/requests', { code })
      tg.haptic('success')
      history.pushState(null, '', '/billiards/friends')
      await openFriends((rows) => rows.some((row) => row.account === found.account))
    }, { className: 'primary big', id: 'ask-friend' }),
  )
}

// -- settings ----------------------------------------------------------------------------------

async function openSettings() {
  const screen = showSocial(t('settings'), loading())
  const [me, notices] = await Promise.all([
    social.api('GET', '/api/billiards/me'),
    social.api('GET', '/api/billiards/me/notices'),
  ])
  const language = el('select', { id: 'settings-lang' },
    new Option('Русский', 'ru'), new Option('English', 'en'))
  language.value = me.language
  const boxes = NOTICES.map((kind) => el('label', { className: 'check' },
    el('input', { type: 'checkbox', name: 'notice', value: kind, checked: me.notices.includes(kind) }),
    ` ${t(`notice_${kind}`)}`))
  const save = action(t('save'), async () => {
    const chosen = boxes.map((box) => box.querySelector('input')).filter((b) => b.checked)
    social.me = await social.api('PUT', '/api/billiards/me/settings', {
      language: language.value, notices: chosen.map((box) => box.value),
    })
    if (lang() !== language.value) {
      setLang(language.value)
      $('lang').textContent = lang() === 'ru' ? 'EN' : 'RU' // the header's toggle names the other
    }
    tg.haptic('success')
    await openSettings()
  }, { className: 'primary', id: 'save-settings' })
  fill(screen,
    el('h2', {}, t('settings')),
    el('label', { htmlFor: 'settings-lang' }, t('language')), language,
    el('h3', {}, t('notifications')),
    el('p', { className: 'muted' }, me.telegram ? t('telegramLinked') : t('telegramNotLinked')),
    el('div', { className: 'column' }, ...boxes),
    el('div', { className: 'row end' }, save),
    el('h3', {}, t('recentNotices')),
    notices.length === 0
      ? el('p', { className: 'muted' }, t('noNotices'))
      : el('ul', { className: 'list plain' }, ...notices.map((notice) => el('li', {},
        `${t(`notice_${notice.kind}`)} · ${t(`state_${notice.state}`)}`,
        notice.reason ? el('span', { className: 'muted' }, ` (${notice.reason})`) : null))),
  )
}

// -- invitations from the match and club screens -------------------------------------------------

/** On a club's page: a button per friend to invite him to the queue of the game chosen. */
export async function renderClubInvite(container, club, game) {
  if (container.dataset.club === club.id) return
  container.dataset.club = club.id
  let friends = []
  try {
    friends = (await social.api('GET', '/api/billiards/friends')).filter((f) => f.state === 'friend')
  } catch {
    return
  }
  if (friends.length === 0) return
  container.replaceChildren(el('p', { className: 'muted' }, t('inviteFriends')),
    el('div', { className: 'row wrap' }, ...friends.map((friend) => action(friend.name, async () => {
      await social.api('POST', '/api/billiards/friends/invitations',
        { friend: friend.account, club_id: club.id, game: game() })
      tg.haptic('success')
    }, { className: 'small', dataset: { invite: friend.account } }))))
}

/** Under a match's invite link: its QR code and a button per friend to invite him. */
export async function renderMatchInvite(container, board, invite) {
  container.replaceChildren(linkWithQr(`/billiards/join/${board.id}?invite=${encodeURIComponent(invite)}`))
  let friends = []
  try {
    friends = (await social.api('GET', '/api/billiards/friends')).filter((f) => f.state === 'friend')
  } catch {
    return // not signed in, or no profile: the link and the code stand alone
  }
  if (friends.length === 0) return
  container.append(el('p', { className: 'muted' }, t('inviteFriends')),
    el('div', { className: 'row wrap' }, ...friends.map((friend) => action(friend.name, async () => {
      await social.api('POST', '/api/billiards/friends/invitations',
        { friend: friend.account, match_id: board.id, invite })
      tg.haptic('success')
    }, { className: 'small', dataset: { invite: friend.account } }))))
}
