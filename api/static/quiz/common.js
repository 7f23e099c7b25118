/** What the quiz pages share: the frames' socket, images fetched with credentials, the answer
 * buttons' colours and shapes, the signed-in session (the canvas's, shared by every page). */

export const SHAPES = ['▲', '◆', '●', '■', '★', '⬟']

export function $(id) {
  return document.getElementById(id)
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value)
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value)
  }
  node.append(...children)
  return node
}

export function liveUrl(sessionId) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${location.host}/api/quiz/sessions/${sessionId}/live`
}

const imageUrls = new Map()

/** An object URL for an image, fetched with the caller's headers (an `<img>` sends none). */
export async function imageUrl(sha, headers) {
  if (!sha) return null
  if (imageUrls.has(sha)) return imageUrls.get(sha)
  const response = await fetch(`/api/quiz/images/${sha}`, { headers })
  if (!response.ok) return null
  const url = URL.createObjectURL(await response.blob())
  imageUrls.set(sha, url)
  return url
}

export function imageNode(sha, headers, className = 'task-image') {
  const image = el('img', { class: className, alt: '' })
  image.hidden = true
  imageUrl(sha, headers).then((url) => {
    if (url) {
      image.src = url
      image.hidden = false
    }
  })
  return image
}

/** Milliseconds left until `deadlineMs` (server time), given the server's clock offset. */
export function remaining(deadlineMs, offsetMs) {
  return Math.max(0, deadlineMs - (Date.now() + offsetMs))
}

export function leaderboardNode(rows) {
  return el('ol', { class: 'leaderboard' }, ...rows.map((row) =>
    el('li', {}, el('span', { text: `${row.rank}. ${row.nickname}` }), el('b', { text: row.score }))))
}

export function podiumNode(podium) {
  const order = [podium[1], podium[0], podium[2]].filter(Boolean)
  return el('div', { class: 'podium' }, ...order.map((row) =>
    el('div', { class: `step p${row.rank}` }, el('div', { text: `#${row.rank}` }),
      el('div', { text: row.nickname }), el('div', { text: row.score }))))
}
