/**
 * The Artel Billiards Mini App: start a match, keep its score with one thumb, watch a scoreboard,
 * queue at a club. Inside Telegram it signs in with `initData`; in a browser it uses the
 * service's sign-in (the session the other pages share).
 */

import { ApiFailure, failureOf, jsonRequest } from '../api.js'
import { Session } from '../canvas/session.js'
import { gameName, lang, setLang, t, translate } from './i18n.js'
import { Live } from './live.js'
import { statsLinks, statsRoute, wireStats } from './stats.js'
import { renderBalls, withBall } from './balls.js'
import { mountSocial, renderClubInvite, renderMatchInvite, routeSocial } from './social.js'
import * as tg from './telegram.js'

const FOULS = ['miss', 'cue_off_table', 'ball_off_table', 'double_hit', 'touch']
const $ = (id) => document.getElementById(id)
const session = new Session()
const state = { board: null, club: null, live: null, templates: [], screen: null }
const billiards = { ready: null, state }
window.billiards = billiards

async function api(method, url, body) {
  const init = body === undefined ? { method } : jsonRequest(method, body)
  const response = await session.fetch(url, init)
  if (!response.ok) throw await failureOf(response)
  return response.status === 204 ? null : response.json()
}

function problem(error) {
  const text = error instanceof ApiFailure ? error.message : String(error)
  $('problem').textContent = text
  $('problem').hidden = !text
  if (text) tg.haptic('error')
}

function show(screen) {
  for (const id of ['signin', 'home', 'match', 'join', 'club', 'stats', 'social']) $(id).hidden = id !== screen
  state.screen = screen
  problem('')
  tg.hideMainButton()
  tg.backButton(screen === 'home' ? null : () => go('/billiards'))
}

function go(path) {
  history.pushState(null, '', path)
  return route()
}

function key() {
  return crypto.randomUUID?.() ?? `${Date.now()}-${Math.random()}`
}

async function route() {
  state.live?.close()
  state.live = null
  const parts = location.pathname.split('/').filter(Boolean) // billiards, kind, id
  const me = session.account
  $('who').textContent = me?.display_name ?? ''
  const social = routeSocial(parts)
  if (social !== null) return social
  if (parts[1] === 'match' && parts[2]) return openMatch(parts[2])
  if (parts[1] === 'club' && parts[2]) return openClub(parts[2])
  const stats = statsRoute(parts)
  if (stats) return stats
  if (me === null) return show('signin')
  if (parts[1] === 'join' && parts[2]) return openJoin(parts[2])
  return openHome()
}

// -- starting a match ------------------------------------------------------------------------------

async function openHome() {
  show('home')
  state.templates = await api('GET', '/api/billiards/templates')
  const select = $('game')
  select.replaceChildren(
    ...state.templates.map((template, index) => {
      const option = new Option(template.built_in ? gameName(template.base) : template.name, index)
      return option
    }),
  )
  if ($('players').children.length === 0) {
    addPlayer(session.account.display_name, true)
    addPlayer('', false)
  }
  renderBreaker()
  tg.mainButton(t('start'), startMatch)
}

function chosen() {
  return state.templates[Number($('game').value)] ?? state.templates[0]
}

function addPlayer(name, me) {
  const item = document.createElement('li')
  const input = document.createElement('input')
  input.value = name
  input.maxLength = 64
  input.placeholder = t('name')
  input.dataset.me = me ? 'yes' : ''
  input.addEventListener('input', renderBreaker)
  item.append(input)
  $('players').append(item)
  renderBreaker()
}

function names() {
  return [...$('players').querySelectorAll('input')].map((input) => input.value.trim())
}

function renderBreaker() {
  const kolkhoz = chosen()?.base === 'kolkhoz'
  const options = names().map((name, index) => new Option(name || `#${index + 1}`, index))
  if (kolkhoz) options.unshift(new Option('🎲', -1))
  $('breaker').replaceChildren(...options)
  $('stake-row').hidden = !kolkhoz
  $('add-player').hidden = !kolkhoz && names().length >= 2
}

async function startMatch() {
  try {
    let template = chosen()
    const inputs = [...$('players').querySelectorAll('input')]
    const players = inputs
      .filter((input) => input.value.trim())
      .map((input) => ({ name: input.value.trim(), me: input.dataset.me === 'yes' }))
    const stake = Number($('stake').value || 0)
    if (template.base === 'kolkhoz' && stake > 0) {
      template = await api('POST', '/api/billiards/templates', {
        base: 'kolkhoz',
        name: `${gameName('kolkhoz')} × ${stake}`,
        params: template.built_in ? { stake } : { ...template.params, stake },
      })
    }
    const body = { template_id: template.id, players }
    const breaker = Number($('breaker').value)
    if (breaker >= 0 && breaker < players.length) {
      body.order = [breaker, ...players.map((_, i) => i).filter((i) => i !== breaker)]
    }
    const created = await api('POST', '/api/billiards/matches', body)
    sessionStorage.setItem(`billiards.invite.${created.id}`, created.invite)
    tg.haptic('success')
    await go(`/billiards/match/${created.id}`)
  } catch (error) {
    problem(error)
  }
}

// -- a match: the scorekeeper's screen and the scoreboard -------------------------------------------

async function openMatch(id) {
  show('match')
  render(await (await fetch(`/api/billiards/matches/${id}`)).json())
  const ticket = session.account ? ticketFor : null // a signed-in player records on the socket
  state.live = new Live(`/api/billiards/matches/${id}/live`, (frame) => {
    // an update carries what changes; the rules and ids stay as the first board gave them
    if (frame.type === 'board') render(frame.board)
    else if (frame.board && state.board?.id === id) render({ ...state.board, ...frame.board })
  }, { ticket })
}

async function ticketFor() {
  return (await api('POST', '/api/auth/ticket')).ticket
}

function render(board) {
  if (!board?.id || (state.board?.id === board.id && board.version < state.board.version)) return
  state.board = board
  const me = session.account?.id ?? null
  const many = board.players.length > 3
  $('scores').replaceChildren(
    ...board.order.map((seat) => {
      const box = document.createElement('div')
      box.className = `seat${seat === board.turn && !board.finished ? ' turn' : ''}${many ? ' many' : ''}`
      box.dataset.seat = seat
      const name = document.createElement('div')
      name.className = 'name'
      name.textContent = board.players[seat].name
      const points = document.createElement('div')
      points.className = 'points'
      points.textContent = board.scores[seat]
      box.append(name, points)
      return box
    }),
  )
  const finished = board.finished
  const winner = finished?.winner
  $('turn').textContent = finished
    ? winner !== null && winner !== undefined
      ? t('won', board.players[winner].name)
      : t(finished.reason === 'draw' ? 'drawn' : 'over')
    : t('turnOf', board.players[board.turn].name)
  $('table-info').textContent = `${gameName(board.game)} · ${t('onTable', board.on_table)}`
  const playing = board.players.some((player) => player.account === me)
  const keeper = me !== null && board.scorekeeper === me && !finished
  $('keeper').hidden = !keeper
  $('watch').hidden = !(playing && board.scorekeeper !== me && !finished)
  $('svoyak').hidden = board.game === 'kolkhoz'
  $('stop').hidden = board.game !== 'kolkhoz'
  $('draw').hidden = !board.rules.draw_allowed || new Set(board.scores).size !== 1
  $('resign').hidden = board.game === 'kolkhoz' || !playing
  const invite = sessionStorage.getItem(`billiards.invite.${board.id}`)
  $('invite').hidden = !invite || board.shots > 0
  if (invite && $('invite').dataset.match !== board.id) {
    $('invite').dataset.match = board.id
    renderMatchInvite($('invite'), board, invite)
  }
  if (keeper) renderBalls(board, shot)
  renderStandings(board)
  if (finished) tg.mainButton(t('newMatch'), () => go('/billiards'))
}

function renderStandings(board) {
  const finished = board.finished
  $('standings').hidden = !finished
  if (!finished) return
  $('standings-rows').replaceChildren(
    ...finished.standings.map((entry) => {
      const row = document.createElement('tr')
      row.dataset.seat = entry.seat
      for (const value of [entry.place, entry.name, entry.score, entry.result, entry.money]) {
        const cell = document.createElement('td')
        cell.textContent = value
        row.append(cell)
      }
      return row
    }),
  )
  $('standings').querySelector('h2').textContent = `${t('standings')} (${t(`reason_${finished.reason}`)})`
}

/** Shots and undos go over the match's live socket when it is the signed-in player's (answered
 * at commit; the board comes as the socket's `update`), else, or when it does not answer, over
 * HTTP with the same key (a key is recorded once). */
const ON_SOCKET = { shots: 'shot', undo: 'undo' }

async function act(path, body) {
  const board = state.board
  if (ON_SOCKET[path] && state.live?.ready) {
    try {
      await state.live.request({ type: ON_SOCKET[path], ...body })
      tg.haptic('medium')
      return
    } catch (error) {
      if (error.frame) return problem(error.message) // refused: the same over HTTP would be too
    }
  }
  try {
    const answer = await api('POST', `/api/billiards/matches/${board.id}/${path}`, body)
    render(answer.board)
    tg.haptic(answer.board.finished ? 'success' : 'medium')
  } catch (error) {
    problem(error)
  }
}

function shot(fields) {
  return act('shots', { key: key(), shooter: state.board.turn, ...withBall(fields, state.board) })
}

function wireMatch() {
  $('pot').onclick = () => shot({ balls: 1 })
  $('pot2').onclick = () => shot({ balls: 2 })
  $('miss').onclick = () => shot({ balls: 0 })
  $('svoyak').onclick = () => shot({ balls: 1, cue: true })
  $('undo').onclick = () => act('undo', { key: key() })
  $('draw').onclick = () => act('draw', { key: key() })
  $('resign').onclick = () => act('resign', { key: key() })
  $('stop').onclick = () => act('stop', { key: key() })
  $('takeover').onclick = () => act('takeover')
  $('fouls').replaceChildren(
    ...FOULS.map((kind) => {
      const button = document.createElement('button')
      button.type = 'button'
      button.dataset.foul = kind
      button.textContent = t(`foul_${kind}`)
      button.onclick = () => shot({ fouls: [kind] })
      return button
    }),
  )
}

// -- joining by the invite link --------------------------------------------------------------------

async function openJoin(id) {
  show('join')
  const invite = new URLSearchParams(location.search).get('invite') ?? ''
  const board = await (await fetch(`/api/billiards/matches/${id}`)).json()
  const seats = board.players
    .map((player, seat) => ({ player, seat }))
    .filter(({ player }) => !player.account)
    .map(({ player, seat }) => ({ label: t('takeSeat', player.name), seat }))
  if (board.shots === 0 && board.players.length < board.rules.max_players) {
    seats.push({ label: t('newSeat'), seat: null })
  }
  $('join-seats').replaceChildren(
    ...seats.map(({ label, seat }) => {
      const button = document.createElement('button')
      button.textContent = label
      button.onclick = async () => {
        try {
          await api('POST', `/api/billiards/matches/${id}/join`, {
            invite, name: session.account.display_name, seat,
          })
          await go(`/billiards/match/${id}`)
        } catch (error) {
          problem(error)
        }
      }
      return button
    }),
  )
}

// -- a club: tables and the queue ------------------------------------------------------------------

async function openClub(id) {
  show('club')
  renderClub(await (await fetch(`/api/billiards/clubs/${id}`)).json())
  state.live = new Live(`/api/billiards/clubs/${id}/live`, (frame) => {
    if (frame.club) renderClub(frame.club)
  })
}

function renderClub(club) {
  if (!club?.id || (state.club?.id === club.id && club.version < state.club.version)) return
  state.club = club
  const me = session.account?.id ?? null
  $('club-name').textContent = club.name
  $('tables').replaceChildren(
    ...club.tables.map((table) => {
      const item = document.createElement('li')
      const names = table.called.map((entry) => entry.name).join(', ')
      item.textContent = `${table.name} · ${gameName(table.game)} · ${t(table.state)} ${names}`
      if (table.match_id) {
        const link = document.createElement('a')
        link.href = `/billiards/match/${table.match_id}`
        link.textContent = ' →'
        item.append(link)
        showScore(item, table.match_id)
      }
      return item
    }),
  )
  $('queue').replaceChildren(
    ...club.queue.map((entry) => {
      const item = document.createElement('li')
      item.textContent = `${entry.name} · ${gameName(entry.game)} · ${t('position', entry.position, entry.wait_minutes)}`
      return item
    }),
  )
  const games = [...new Set(club.tables.map((table) => table.game))]
  if ($('queue-game').options.length !== games.length) {
    $('queue-game').replaceChildren(...games.map((game) => new Option(gameName(game), game)))
  }
  const called = club.tables.find(
    (table) => table.state === 'calling' && table.called.some((entry) => entry.account === me),
  )
  const waiting = called && !called.confirmed.includes(me)
  $('called').hidden = !waiting
  if (waiting) {
    const seconds = Math.max(0, Math.round((called.deadline_ms - Date.now()) / 1000))
    $('called-text').textContent = t('called', called.name, seconds)
    tg.haptic('warning')
    tg.mainButton(t('confirm'), confirmCall)
  } else {
    tg.hideMainButton()
  }
  const mine = club.tables.find(
    (table) => table.state === 'playing' && table.called.some((entry) => entry.account === me),
  )
  if (mine && state.screen === 'club' && state.confirmedAt === club.id) go(`/billiards/match/${mine.match_id}`)
  if (me !== null) renderClubInvite($('club-invite'), club, () => $('queue-game').value)
}

/** The current match's score beside its table, as the scoreboard reads it. */
async function showScore(item, matchId) {
  try {
    const board = await (await fetch(`/api/billiards/matches/${matchId}`)).json()
    const score = document.createElement('span')
    score.className = 'muted'
    score.textContent = ` ${board.order.map((seat) => `${board.players[seat].name} ${board.scores[seat]}`).join(' : ')}`
    item.append(score)
  } catch {
    // the score is extra: the table's line stands without it
  }
}

async function clubAct(method, path, body) {
  try {
    renderClub(await api(method, `/api/billiards/clubs/${state.club.id}/${path}`, body))
  } catch (error) {
    problem(error)
  }
}

function confirmCall() {
  state.confirmedAt = state.club.id
  return clubAct('POST', 'confirm')
}

function wireClub() {
  $('confirm').onclick = confirmCall
  $('queue-join').onclick = () =>
    clubAct('POST', 'queue', { name: session.account?.display_name ?? '?', game: $('queue-game').value })
  $('queue-leave').onclick = () => clubAct('DELETE', 'queue')
  $('club-form').onsubmit = (event) => {
    event.preventDefault()
    go(`/billiards/club/${$('club-id').value.trim()}`)
  }
}

// -- start -----------------------------------------------------------------------------------------

async function start() {
  await tg.connect()
  setLang(lang())
  $('lang').textContent = lang() === 'ru' ? 'EN' : 'RU'
  $('lang').onclick = () => {
    setLang(lang() === 'ru' ? 'en' : 'ru')
    $('lang').textContent = lang() === 'ru' ? 'EN' : 'RU'
    wireMatch()
    if (state.board && state.screen === 'match') render(state.board)
  }
  if (tg.inTelegram() && !session.signedIn) {
    try {
      await session.signInWithTelegramMiniApp(tg.initData())
    } catch (error) {
      problem(error)
    }
  }
  translate()
  wireMatch()
  wireClub()
  wireStats({ api, show, go, problem, me: () => session.account })
  $('home').prepend(statsLinks())
  mountSocial({ api, go, session, problem })
  $('game').onchange = renderBreaker
  $('add-player').onclick = () => addPlayer('', false)
  $('start').onclick = startMatch
  addEventListener('popstate', route)
  await route()
}

billiards.ready = start()
