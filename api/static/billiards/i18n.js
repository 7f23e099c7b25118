/** Russian and English texts; the language is Telegram's (or the browser's) unless chosen. */

import { SOCIAL_TEXTS } from './social_texts.js'

const TEXTS = {
  en: {
    title: 'Artel Billiards', signInFirst: 'Sign in to start a match.', signInLink: 'Sign in',
    newMatch: 'New match', game: 'Game', players: 'Players', addPlayer: '+ player',
    breaks: 'Who breaks', stake: 'Stake per point', start: 'Start the match', club: 'Club',
    open: 'Open', pot: '+1 ball', pot2: '+2 balls', miss: 'No ball', svoyak: 'Свояк',
    undo: 'Undo', fouls: 'Fouls', draw: 'Draw', resign: 'Resign', stopGame: 'Stop',
    takeOver: 'Keep the score', standings: 'Standings', player: 'Player', score: 'Score',
    result: 'Result', money: 'Money', joinMatch: 'Join the match', confirm: "I'm coming",
    tables: 'Tables', queue: 'Queue', joinQueue: 'Join the queue', leaveQueue: 'Leave',
    me: 'me', name: 'Name', turnOf: (name) => `${name} to shoot`, won: (name) => `${name} wins`,
    drawn: 'Draw', over: 'Match over', invite: 'Invite link', takeSeat: (name) => `Take ${name}'s seat`,
    newSeat: 'A new seat', free: 'free', calling: 'calling players', playing: 'playing',
    called: (table, s) => `Your table ${table} is ready: confirm within ${s} s`,
    position: (n, m) => `#${n}, about ${m} min`, onTable: (n) => `${n} balls on the table`,
    foul_miss: 'Miss', foul_cue_off_table: 'Cue off', foul_ball_off_table: 'Ball off',
    foul_double_hit: 'Double hit', foul_touch: 'Touch',
    reason_target: 'target reached', reason_table_cleared: 'table cleared', reason_draw: 'agreed draw',
    reason_resigned: 'resignation', reason_stopped: 'players stopped',
  },
  ru: {
    title: 'Артель Бильярд', signInFirst: 'Войдите, чтобы начать партию.', signInLink: 'Войти',
    newMatch: 'Новая партия', game: 'Игра', players: 'Игроки', addPlayer: '+ игрок',
    breaks: 'Кто разбивает', stake: 'Ставка за очко', start: 'Начать партию', club: 'Клуб',
    open: 'Открыть', pot: '+1 шар', pot2: '+2 шара', miss: 'Мимо', svoyak: 'Свояк',
    undo: 'Отменить', fouls: 'Штрафы', draw: 'Ничья', resign: 'Сдаться', stopGame: 'Закончить',
    takeOver: 'Вести счёт', standings: 'Итоги', player: 'Игрок', score: 'Очки',
    result: 'Результат', money: 'Расчёт', joinMatch: 'Присоединиться', confirm: 'Иду',
    tables: 'Столы', queue: 'Очередь', joinQueue: 'Встать в очередь', leaveQueue: 'Выйти',
    me: 'я', name: 'Имя', turnOf: (name) => `Бьёт ${name}`, won: (name) => `Победил ${name}`,
    drawn: 'Ничья', over: 'Партия окончена', invite: 'Ссылка-приглашение',
    takeSeat: (name) => `Занять место: ${name}`, newSeat: 'Новое место', free: 'свободен',
    calling: 'вызов игроков', playing: 'идёт игра',
    called: (table, s) => `Ваш стол ${table} свободен: подтвердите за ${s} с`,
    position: (n, m) => `№${n}, около ${m} мин`, onTable: (n) => `На столе шаров: ${n}`,
    foul_miss: 'Промах', foul_cue_off_table: 'Биток за бортом', foul_ball_off_table: 'Шар за бортом',
    foul_double_hit: 'Двойной удар', foul_touch: 'Касание',
    reason_target: 'набрано очков', reason_table_cleared: 'стол пуст', reason_draw: 'ничья',
    reason_resigned: 'сдача', reason_stopped: 'игроки закончили',
  },
}

for (const [code, texts] of Object.entries(SOCIAL_TEXTS)) Object.assign(TEXTS[code], texts)

const GAMES = {
  en: { american: 'Американка (free pyramid)', moscow: 'Московская (Moscow pyramid)', kolkhoz: 'Колхоз' },
  ru: { american: 'Американка', moscow: 'Московская', kolkhoz: 'Колхоз' },
}

let language = pick()

function pick() {
  const stored = localStorage.getItem('billiards.lang')
  if (stored === 'ru' || stored === 'en') return stored
  const code = window.Telegram?.WebApp?.initDataUnsafe?.user?.language_code ?? navigator.language ?? 'en'
  return code.toLowerCase().startsWith('ru') ? 'ru' : 'en'
}

export function lang() {
  return language
}

export function setLang(value) {
  language = value
  localStorage.setItem('billiards.lang', value)
  document.documentElement.lang = value
  translate()
}

export function t(key, ...args) {
  const text = TEXTS[language][key] ?? TEXTS.en[key] ?? key
  return typeof text === 'function' ? text(...args) : text
}

export function gameName(game) {
  return GAMES[language][game] ?? game
}

export function translate(root = document) {
  for (const element of root.querySelectorAll('[data-t]')) element.textContent = t(element.dataset.t)
  document.title = t('title')
}
