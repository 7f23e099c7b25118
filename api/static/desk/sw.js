/**
 * The desks' service worker (scope `/desk`): keeps the app shell (the two pages and their
 * modules) so a desk this browser opened before opens with the network off. Pages go to the
 * network first and fall back to the copy kept here; modules and styles come from the copy kept
 * here and are refreshed behind it (a new version takes effect on the next visit). The API is
 * never touched: the page keeps each desk's last state (localStorage) and its pending edits
 * (IndexedDB) itself.
 */

const CACHE = 'tessera-desk-shell-v3'
const DESK_PAGE = '/desk/_' // every `/desk/{id}` is the same page; kept under one key
const SHELL = [
  '/desk', DESK_PAGE, '/static/api.js', '/static/header.js', '/static/icon.svg',
  '/static/style.css', '/static/canvas/session.js',
  ...['account', 'app', 'start', 'session', 'outbox', 'replica', 'sync', 'stickers', 'presence', 'collisions',
    'camera', 'hlc', 'ids', 'undo', 'zorder', 'recent', 'worker', 'page', 'keys', 'marquee',
  ].map((m) => `/static/desk/${m}.js`),
  '/static/desk/desk.css',
]

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE)
    // One missing file must not keep the rest out.
    await Promise.all(SHELL.map((url) => cache.add(url).catch(() => undefined)))
    await self.skipWaiting()
  })())
})

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    // Only the desks' own old caches: the origin's cache storage holds Pixel Wars' too.
    for (const key of await caches.keys()) {
      if (key.startsWith('tessera-desk-') && key !== CACHE) await caches.delete(key)
    }
    await self.clients.claim()
  })())
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  const url = new URL(request.url)
  if (request.method !== 'GET' || url.origin !== location.origin) return
  if (request.mode === 'navigate' && (url.pathname === '/desk' || url.pathname.startsWith('/desk/'))) {
    const key = url.pathname === '/desk' ? '/desk' : DESK_PAGE
    event.respondWith(networkFirst(request, key))
  } else if (url.pathname.startsWith('/static/')) {
    event.respondWith(keptThenRefreshed(event, request, url.pathname))
  }
})

/** Modules and styles: the kept copy at once (a page opens without waiting on the network),
 *  refreshed behind it for the next visit; the network when nothing is kept. */
async function keptThenRefreshed(event, request, key) {
  const cache = await caches.open(CACHE)
  const kept = await cache.match(key)
  const fresh = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(key, response.clone())
    return response
  })
  if (kept === undefined) return fresh
  event.waitUntil(fresh.catch(() => undefined))
  return kept
}

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE)
  try {
    const response = await fetch(request)
    if (response.ok) await cache.put(key, response.clone())
    return response
  } catch (error) {
    const kept = await cache.match(key)
    if (kept !== undefined) return kept
    throw error
  }
}
