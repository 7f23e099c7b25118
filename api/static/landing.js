/** The landing page: the current game's board and who plays it, and what is still to come. */

import { getJson } from './api.js'
import { PRODUCTS } from './header.js'

const $ = (id) => document.getElementById(id)

// Products without a page of their own (an API for other clients) are named under the cards.
$('coming').textContent = PRODUCTS.filter((product) => product.hidden).map((product) => product.note).join(' ')

async function showCurrentGame() {
  const { current_canvas: id } = await getJson('/api/config')
  if (!id) return // no game open: the card says so
  const canvas = await getJson(`/api/canvas/${id}`)
  const image = document.createElement('img')
  image.src = `/api/canvas/${canvas.id}/snapshot/latest/png`
  image.alt = canvas.title ? `The canvas "${canvas.title}" right now` : 'The canvas right now'
  image.width = canvas.width
  image.height = canvas.height
  $('canvas-preview').replaceChildren(image)
  const online = await fetch(`/api/canvas/${canvas.id}/online`)
  if (!online.ok) return
  const { players } = await online.json()
  $('canvas-live').textContent = `● ${players} ${players === 1 ? 'player' : 'players'} online · ${canvas.width}×${canvas.height}`
  $('canvas-live').hidden = false
}

showCurrentGame().catch((error) => console.warn('the current game is not shown', error))
