/**
 * Колхоз with valued balls: the scorekeeper picks which balls went in (each has its value), and a
 * foul with one ball picked costs that ball's value (`on_ball`). Other games keep the app's
 * "+1 ball" buttons.
 */

import { t } from './i18n.js'

const picked = new Set()
let shown = null

/** Draws the balls still on the table into `#balls` (hidden for unvalued games); `pocket`
 * records the shot `{balls, numbers}`. */
export function renderBalls(board, pocket) {
  const box = document.getElementById('balls')
  const valued = Array.isArray(board.rules?.ball_values) && !board.finished
  box.hidden = !valued
  for (const id of ['pot', 'pot2']) document.getElementById(id).hidden = valued
  if (!valued) return
  if (shown !== `${board.id}/${board.version}`) picked.clear()
  shown = `${board.id}/${board.version}`
  const remaining = board.remaining ?? []
  const grid = document.createElement('div')
  grid.className = 'balls'
  for (const number of remaining) {
    const ball = document.createElement('button')
    ball.type = 'button'
    ball.className = `ball${picked.has(number) ? ' picked' : ''}`
    ball.dataset.ball = number
    ball.setAttribute('aria-pressed', String(picked.has(number)))
    ball.append(String(number))
    const value = document.createElement('small')
    value.textContent = `${board.rules.ball_values[number - 1]}`
    ball.append(value)
    ball.onclick = () => {
      if (picked.has(number)) picked.delete(number)
      else picked.add(number)
      ball.classList.toggle('picked', picked.has(number))
      ball.setAttribute('aria-pressed', String(picked.has(number)))
      done.disabled = picked.size === 0
      done.textContent = t('pocketed', picked.size)
    }
    grid.append(ball)
  }
  const done = document.createElement('button')
  done.type = 'button'
  done.id = 'pocketed'
  done.className = 'primary big'
  done.disabled = picked.size === 0
  done.textContent = t('pocketed', picked.size)
  done.onclick = () => {
    const numbers = [...picked].sort((a, b) => a - b)
    picked.clear()
    pocket({ balls: numbers.length, numbers })
  }
  box.replaceChildren(grid, done)
}

/** A shot's fields with the picked ball as `on_ball` when it is a foul in a valued game. */
export function withBall(fields, board) {
  if (!fields.fouls?.length || !Array.isArray(board?.rules?.ball_values) || picked.size !== 1) {
    return fields
  }
  const [ball] = picked
  picked.clear()
  return { ...fields, on_ball: ball }
}
