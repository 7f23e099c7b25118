/**
 * Pixel Wars' service worker (scope `/canvas`: the desks have a worker of their own). The app
 * shell is kept so that the page opens without a network, and so are the last answers about
 * the game (config, canvas, latest board), so an offline page shows the board it last saw and
 * says it is offline. Network first: the files revalidate on every visit anyway (no build step,
 * no fingerprints), so a cached copy is only ever the fallback.
 */

const CACHE = 'tessera-canvas-v2'
const SHELL = [
  '/canvas',
  '/static/style.css',
  '/static/header.js',
  '/static/api.js',
  '/static/icon.svg',
  '/static/canvas/manifest.webmanifest',
  '/static/canvas/icon-192.png',
  '/static/canvas/icon-512.png',
  ...[
    'account', 'address', 'app', 'board', 'cooldown', 'current', 'delta', 'game', 'grid',
    'inspector', 'live', 'online', 'palette', 'providers', 'session', 'spectate', 'status',
    'sync', 'timelapse', 'toast', 'view', 'watch',
  ].map((name) => `/static/canvas/${name}.js`),
]
/** Game answers kept for an offline start: the last of each, stamped with when it was kept
 *  (`X-Tessera-Kept-At`, ms since the epoch) so that the page can say how old the board is.
 *  The config names the current game (open pages poll it), so a page started offline opens
 *  the game it last knew. */
const KEPT_API = [/^\/api\/config$/, /^\/api\/canvas\/[0-9a-f-]{36}$/,
  /^\/api\/canvas\/[0-9a-f-]{36}\/snapshot\/latest$/]
const KEPT_AT = 'X-Tessera-Kept-At'

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('tessera-canvas-') && name !== CACHE) await caches.delete(name)
    }
    await self.clients.claim()
  })())
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== location.origin) return
  if (request.mode === 'navigate') {
    // Every address under the scope is the one page (`?canvas=`, `?x=&y=&zoom=`).
    event.respondWith(networkFirst(event, '/canvas'))
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(networkFirst(event, url.pathname))
  } else if (KEPT_API.some((pattern) => pattern.test(url.pathname))) {
    event.respondWith(networkFirst(event, url.pathname, { stamped: true }))
  }
})

/** The network's answer as soon as it comes (a copy is kept meanwhile, off the page's path);
 *  the copy kept last when the network fails. */
async function networkFirst(event, key, { stamped = false } = {}) {
  let response
  try {
    response = await fetch(event.request)
  } catch (error) {
    const kept = await (await caches.open(CACHE)).match(key)
    if (kept !== undefined) return kept
    throw error
  }
  if (response.status === 200 && (stamped || !response.redirected)) {
    event.waitUntil(keep(key, response.clone(), stamped))
  }
  return response
}

async function keep(key, response, stamped) {
  const cache = await caches.open(CACHE)
  if (!stamped) return cache.put(key, response)
  // The latest board arrives through a redirect: its bytes are kept under the latest URL
  // (decoded already: the encoding and length headers would lie), with when they were.
  const headers = new Headers(response.headers)
  headers.delete('content-encoding')
  headers.delete('content-length')
  headers.set(KEPT_AT, String(Date.now()))
  return cache.put(key, new Response(await response.blob(), { headers }))
}
