/**
 * This browser's session keys for a desk, kept in localStorage: a key is our client id (stamps
 * and `client_seq`s are counted per key) and goes with the outbox stored under it. A tab holds
 * its key with a Web Lock, so two tabs of the same desk never share one.
 */

import { postAsAccount } from './account.js'

const storageKey = (deskId) => `tessera.desk.${deskId}`

/** Keep the session an answer of `POST /api/desk/init` or `…/session` gave out. */
export function remember(opened) {
  const sessions = stored(opened.desk_id)
  sessions.push({
    client_id: opened.client_id ?? opened.session_key,
    session_key: opened.session_key,
    creator_token: opened.creator_token ?? null,
    name: opened.name ?? null,
  })
  localStorage.setItem(storageKey(opened.desk_id), JSON.stringify(sessions))
}

/** A session of this desk no other tab holds: a kept one (its outbox is ours to send), or a new
 *  one asked for with the link. */
export async function claimSession(deskId) {
  const kept = stored(deskId)
  const name = kept.findLast((session) => session.name)?.name ?? null
  for (const session of kept) if (await claim(session.client_id)) return { ...session, name }
  const opened = await postAsAccount(`/api/desk/${encodeURIComponent(deskId)}/session`, {})
  remember({ ...opened, desk_id: deskId })
  const session = stored(deskId).at(-1)
  await claim(session.client_id)
  return session
}

/** The creator token this browser was given when it created the desk, whichever of its sessions
 *  holds it (the creator's other tabs may finish the session too), or null. */
export function creatorToken(deskId) {
  return stored(deskId).find((session) => session.creator_token)?.creator_token ?? null
}

function stored(deskId) {
  try {
    const sessions = JSON.parse(localStorage.getItem(storageKey(deskId)) ?? '[]')
    return Array.isArray(sessions) ? sessions : []
  } catch {
    return []
  }
}

function claim(clientId) {
  if (!navigator.locks) return Promise.resolve(true)
  return new Promise((resolve) => {
    navigator.locks.request(`tessera.desk.${clientId}`, { ifAvailable: true }, (lock) => {
      resolve(lock !== null)
      return lock === null ? undefined : new Promise(() => {}) // held while the tab lives
    })
  })
}
