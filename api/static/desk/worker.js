/** The desks' service worker (`/desk/sw.js`, scope `/desk`): the app shell and pages offline. */

export function registerWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return Promise.resolve(null)
  return navigator.serviceWorker.register('/desk/sw.js', { scope: '/desk' }).catch(() => null)
}
