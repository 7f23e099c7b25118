/**
 * The Mini App's stats screens: a player's profile (stats per game, rating over time, balls per
 * turn, head-to-head, history), the leaderboards (all-time and per season, with one's own rank)
 * and the replay of a finished match, shot by shot. Charts are inline SVG. `app.js` hands over
 * its helpers with `wireStats` and asks `statsRoute` first for each path.
 */

import { chart } from './charts.js'
import { gameName, lang } from './i18n.js'

const GAMES = ['american', 'moscow', 'kolkhoz']
const TEXTS = {
  en: {
    myStats: 'My stats', leaderboards: 'Leaderboards', loading: 'Loading…', offline: 'You are offline',
    empty: 'No finished matches yet', rating: 'Rating', provisional: 'provisional', rank: (n) => `#${n}`,
    matches: 'Matches', wins: 'W', losses: 'L', draws: 'D', winRate: 'Win rate', balls: 'Balls',
    fouls: 'Fouls', bestRun: 'Best run', perTurn: 'Balls per turn', streak: 'Streak', longest: 'Longest',
    ratingOverTime: 'Rating over time', ballsPerTurn: 'Balls per turn, by match',
    versus: 'Head to head', history: 'History', replay: 'Replay', allTime: 'All time',
    player: 'Player', you: 'You', nobody: 'Nobody is rated in this game yet',
    result_win: 'win', result_loss: 'loss', result_draw: 'draw', shot: (n, m) => `Shot ${n} of ${m}`,
    start: 'Break', prev: '‹', next: '›', play: '▶', pause: '❚❚', foul: 'foul', cue: 'cue ball',
    pocketed: (name, n) => `${name}: ${n} ball${n === 1 ? '' : 's'}`, missed: (name) => `${name}: no ball`,
    fouled: (name, kind) => `${name}: foul (${kind})`, change: 'Rating change', notRated: 'guest, not rated',
    season: 'Season', game: 'Game',
  },
  ru: {
    myStats: 'Моя статистика', leaderboards: 'Рейтинги', loading: 'Загрузка…', offline: 'Нет сети',
    empty: 'Сыгранных партий пока нет', rating: 'Рейтинг', provisional: 'предварительный',
    rank: (n) => `№${n}`, matches: 'Партии', wins: 'В', losses: 'П', draws: 'Н', winRate: 'Доля побед',
    balls: 'Шары', fouls: 'Фолы', bestRun: 'Лучшая серия', perTurn: 'Шаров за подход', streak: 'Серия побед',
    longest: 'Лучшая серия побед', ratingOverTime: 'Рейтинг по партиям',
    ballsPerTurn: 'Шаров за подход по партиям', versus: 'Личные встречи', history: 'История',
    replay: 'Повтор', allTime: 'За всё время', player: 'Игрок', you: 'Вы',
    nobody: 'В этой игре пока нет рейтинга', result_win: 'победа', result_loss: 'поражение',
    result_draw: 'ничья', shot: (n, m) => `Удар ${n} из ${m}`, start: 'Разбой', prev: '‹', next: '›',
    play: '▶', pause: '❚❚', foul: 'фол', cue: 'биток', pocketed: (name, n) => `${name}: шаров ${n}`,
    missed: (name) => `${name}: мимо`, fouled: (name, kind) => `${name}: фол (${kind})`,
    change: 'Изменение рейтинга', notRated: 'гость, без рейтинга', season: 'Сезон', game: 'Игра',
  },
}

let app = null
const view = { timer: null }

function s(key, ...args) {
  const text = TEXTS[lang()]?.[key] ?? TEXTS.en[key] ?? key
  return typeof text === 'function' ? text(...args) : text
}

/** `{ api, show, go, problem, me }` from app.js. */
export function wireStats(helpers) {
  app = helpers
  addEventListener('offline', () => status(s('offline')))
  addEventListener('online', () => status(''))
}

/** The screen for `parts` of the path (billiards, what, id), or null when it is not a stats one. */
export function statsRoute(parts) {
  clearInterval(view.timer)
  const [, what, id] = parts
  if (what === 'stats') return openPlayer(app.me()?.id)
  if (what === 'players' && id) return openPlayer(decodeURIComponent(id))
  if (what === 'leaderboards') return openBoard(GAMES.includes(id) ? id : 'american')
  if (what === 'replay' && id) return openReplay(id)
  return null
}

/** The links to the stats screens, for the home screen. */
export function statsLinks() {
  const nav = el('nav', 'row stats-links')
  nav.id = 'stats-links'
  nav.append(link(s('myStats'), '/billiards/stats'), link(s('leaderboards'), '/billiards/leaderboards'))
  return nav
}

// -- helpers -----------------------------------------------------------------------------------------

function el(tag, className = '', text = null) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== null) node.textContent = text
  return node
}

function link(text, path) {
  const a = el('a', 'button quiet', text)
  a.href = path
  a.onclick = (event) => {
    event.preventDefault()
    app.go(path)
  }
  return a
}

function root() {
  return document.getElementById('stats')
}

function status(text) {
  const line = document.getElementById('stats-status')
  if (!line) return
  line.textContent = text
  line.hidden = !text
}

async function screen(title, load) {
  app.show('stats')
  const box = root()
  const heading = el('h2', '', title)
  const line = el('p', 'muted center', navigator.onLine ? s('loading') : s('offline'))
  line.id = 'stats-status'
  const body = el('div', 'stats-body')
  box.replaceChildren(heading, line, body)
  try {
    await load(body, heading)
    status('')
  } catch (error) {
    status('')
    app.problem(error)
  }
}

function fixed(value, digits = 1) {
  return Number(value).toFixed(digits)
}

function table(head, rows) {
  const t = el('table')
  const tr = el('tr')
  for (const h of head) tr.append(el('th', '', h))
  const thead = el('thead')
  thead.append(tr)
  const tbody = el('tbody')
  for (const row of rows) tbody.append(row)
  t.append(thead, tbody)
  return t
}

function row(cells) {
  const tr = el('tr')
  for (const cell of cells) {
    const td = el('td')
    if (cell instanceof Node) td.append(cell)
    else td.textContent = cell
    tr.append(td)
  }
  return tr
}

// -- a player's profile ------------------------------------------------------------------------------

async function openPlayer(player) {
  if (!player) return app.go('/billiards')
  return screen(s('myStats'), async (body, heading) => {
    const enc = encodeURIComponent(player)
    let stats
    try {
      stats = await app.api('GET', `/api/billiards/players/${enc}/stats`)
    } catch (error) {
      if (error.status !== 404) throw error
      body.append(el('p', 'muted center empty', s('empty')), statsLinks())
      return
    }
    heading.textContent = stats.name
    const history = await app.api('GET', `/api/billiards/players/${enc}/matches?limit=100`)
    const games = el('div', 'column')
    for (const game of stats.games) games.append(await gameCard(player, game, history))
    const versus = table(
      [s('player'), s('game'), s('matches'), `${s('wins')}-${s('losses')}-${s('draws')}`],
      stats.head_to_head.map((h) =>
        row([link(h.name, `/billiards/players/${encodeURIComponent(h.opponent)}`), gameName(h.kind), h.matches, `${h.wins}-${h.losses}-${h.draws}`]),
      ),
    )
    versus.id = 'versus'
    const past = table(
      ['', s('game'), s('player'), s('balls'), s('change')],
      history.map((m) => {
        const r = row([
          s(`result_${m.result}`), gameName(m.kind), m.opponents.join(', '), m.balls,
          m.rating_change === null ? '' : `${m.rating_change >= 0 ? '+' : ''}${fixed(m.rating_change, 2)}`,
        ])
        r.className = `result ${m.result}`
        r.dataset.match = m.match_id
        r.onclick = () => app.go(`/billiards/replay/${m.match_id}`)
        return r
      }),
    )
    past.id = 'history'
    body.append(games, el('h3', '', s('versus')), versus, el('h3', '', s('history')), past, statsLinks())
  })
}

async function gameCard(player, game, history) {
  const card = el('section', 'card game-stats')
  card.dataset.kind = game.kind
  const title = el('h3', '', gameName(game.kind))
  const rating = game.rating
  if (rating) {
    const badge = el('span', 'rating', ` ${s('rating')} ${fixed(rating.ordinal, 2)} ${s('rank', rating.rank)}`)
    if (rating.provisional) badge.append(el('small', 'muted', ` (${s('provisional')})`))
    title.append(badge)
  }
  const figures = el('dl', 'figures')
  for (const [name, value] of [
    [s('matches'), game.matches], [`${s('wins')}-${s('losses')}-${s('draws')}`, `${game.wins}-${game.losses}-${game.draws}`],
    [s('winRate'), `${Math.round(game.win_rate * 100)}%`], [s('balls'), game.balls], [s('fouls'), game.fouls],
    [s('bestRun'), game.best_run], [s('perTurn'), fixed(game.balls_per_turn, 2)],
    [s('streak'), game.streak], [s('longest'), game.longest_streak],
  ]) {
    const item = el('div')
    item.append(el('dt', '', name), el('dd', '', String(value)))
    figures.append(item)
  }
  card.append(title, figures)
  if (rating) {
    const { points } = await app.api('GET', `/api/billiards/players/${encodeURIComponent(player)}/ratings/${game.kind}`)
    card.append(el('h4', 'muted', s('ratingOverTime')), chart([0, ...points.map((p) => p.ordinal)], { label: s('ratingOverTime') }))
  }
  const perTurn = history.filter((m) => m.kind === game.kind && m.turns > 0).reverse().map((m) => m.balls / m.turns)
  card.append(el('h4', 'muted', s('ballsPerTurn')), chart(perTurn, { bars: true, label: s('ballsPerTurn') }))
  return card
}

// -- leaderboards -------------------------------------------------------------------------------------

function seasons() {
  const now = new Date()
  const out = [['all', s('allTime')]]
  for (let back = 0; back < 3; back++) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1))
    const key = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`
    out.push([key, key])
  }
  return out
}

async function openBoard(kind) {
  const season = new URLSearchParams(location.search).get('season') ?? 'all'
  return screen(s('leaderboards'), async (body) => {
    const pickGame = el('select')
    pickGame.id = 'board-game'
    for (const game of GAMES) pickGame.append(new Option(gameName(game), game, false, game === kind))
    const pickSeason = el('select')
    pickSeason.id = 'board-season'
    for (const [key, name] of seasons()) pickSeason.append(new Option(name, key, false, key === season))
    const change = () => app.go(`/billiards/leaderboards/${pickGame.value}?season=${pickSeason.value}`)
    pickGame.onchange = change
    pickSeason.onchange = change
    const controls = el('div', 'row')
    controls.append(pickGame, pickSeason)
    body.append(controls)
    const board = await app.api('GET', `/api/billiards/leaderboards/${kind}?season=${season}&limit=100`)
    const me = app.me()?.id
    if (me) {
      try {
        const mine = await app.api('GET', `/api/billiards/leaderboards/${kind}/players/${encodeURIComponent(me)}?season=${season}`)
        const line = el('p', 'my-rank', `${s('you')}: ${s('rank', mine.standing.rank)} / ${mine.total} · ${fixed(mine.standing.ordinal, 2)}`)
        line.id = 'my-rank'
        body.append(line)
      } catch (error) {
        if (error.status !== 404) throw error
      }
    }
    if (board.standings.length === 0) {
      body.append(el('p', 'muted center empty', s('nobody')))
      return
    }
    const rows = board.standings.map((st) => {
      const name = link(st.name, `/billiards/players/${encodeURIComponent(st.player)}`)
      const r = row([st.rank, name, fixed(st.ordinal, 2) + (st.provisional ? '*' : ''), st.matches])
      if (st.player === me) r.className = 'me'
      r.dataset.player = st.player
      return r
    })
    const t = table(['#', s('player'), s('rating'), s('matches')], rows)
    t.id = 'leaderboard'
    body.append(t, el('p', 'muted', `* ${s('provisional')}`))
  })
}

// -- replay -----------------------------------------------------------------------------------------

async function openReplay(matchId) {
  return screen(s('replay'), async (body, heading) => {
    const replay = await app.api('GET', `/api/billiards/matches/${matchId}/replay`)
    const board = replay.board
    heading.textContent = `${s('replay')}: ${gameName(board.game)}`
    const scores = el('div', 'scores')
    scores.id = 'replay-scores'
    const caption = el('p', 'turn')
    caption.id = 'replay-caption'
    const counter = el('p', 'muted center')
    counter.id = 'replay-counter'
    const slider = el('input')
    Object.assign(slider, { type: 'range', min: 0, max: replay.steps.length, value: 0, id: 'replay-slider' })
    const buttons = el('div', 'row center')
    const prev = el('button', 'big', s('prev'))
    const play = el('button', 'big', s('play'))
    const next = el('button', 'big', s('next'))
    prev.id = 'replay-prev'
    play.id = 'replay-play'
    next.id = 'replay-next'
    buttons.append(prev, play, next)
    const names = board.players.map((p) => p.name)
    const stepTo = (n) => {
      n = Math.max(0, Math.min(replay.steps.length, n))
      slider.value = n
      const step = replay.steps[n - 1]
      const scoresNow = step ? step.scores : names.map(() => 0)
      scores.replaceChildren(
        ...board.order.map((seat) => {
          const box = el('div', `seat${step && step.shot.shooter === seat ? ' turn' : ''}`)
          box.append(el('div', 'name', names[seat]), el('div', 'points', String(scoresNow[seat])))
          return box
        }),
      )
      counter.textContent = n === 0 ? s('start') : s('shot', n, replay.steps.length)
      caption.textContent = step ? describe(step.shot, names) : ''
    }
    slider.oninput = () => stepTo(Number(slider.value))
    prev.onclick = () => stepTo(Number(slider.value) - 1)
    next.onclick = () => stepTo(Number(slider.value) + 1)
    play.onclick = () => {
      if (view.timer) {
        clearInterval(view.timer)
        view.timer = null
        play.textContent = s('play')
        return
      }
      if (Number(slider.value) >= replay.steps.length) stepTo(0)
      play.textContent = s('pause')
      view.timer = setInterval(() => {
        const at = Number(slider.value) + 1
        stepTo(at)
        if (at >= replay.steps.length) {
          clearInterval(view.timer)
          view.timer = null
          play.textContent = s('play')
        }
      }, 700)
    }
    const changes = new Map(replay.rating_changes.map((c) => [c.player, c]))
    const standings = table(
      ['#', s('player'), s('balls'), s('change')],
      board.finished.standings.map((entry) => {
        const account = board.players[entry.seat].account
        const c = account ? changes.get(account) : null
        const delta = c ? `${c.change >= 0 ? '+' : ''}${fixed(c.change, 2)}` : account ? '' : s('notRated')
        const who = account ? link(entry.name, `/billiards/players/${encodeURIComponent(account)}`) : entry.name
        return row([entry.place, who, entry.score, delta])
      }),
    )
    standings.id = 'replay-standings'
    body.append(scores, caption, counter, slider, buttons, standings)
    stepTo(replay.steps.length)
  })
}

function describe(shot, names) {
  const name = names[shot.shooter]
  if (shot.fouls.length > 0) return s('fouled', name, shot.fouls.join(', '))
  const balls = shot.balls + (shot.cue ? 1 : 0)
  return balls > 0 ? s('pocketed', name, balls) : s('missed', name)
}
