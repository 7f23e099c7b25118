/**
 * What this browser keeps of the desks it opened, in localStorage: a list of recent desks (for
 * `/desk`) and each desk's last known state (its name and stickers with their stamps), so a desk
 * opens with its stickers before the socket answers, and offline at all.
 */

const RECENT = 'tessera.desk.recent'
const STATE = (deskId) => `tessera.desk.state.${deskId}`
const KEEP = 20

export function recentDesks() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT) ?? '[]')
    return Array.isArray(list) ? list.filter((d) => typeof d?.id === 'string') : []
  } catch {
    return []
  }
}

/** This desk was opened now. */
export function opened(deskId, name) {
  const previous = recentDesks().find((d) => d.id === deskId)
  const list = recentDesks().filter((d) => d.id !== deskId)
  list.unshift({ id: deskId, name: name || previous?.name || '', at: Date.now() })
  write(RECENT, list.slice(0, KEEP))
}

export function forget(deskId) {
  write(RECENT, recentDesks().filter((d) => d.id !== deskId))
  localStorage.removeItem(STATE(deskId))
}

/** `{name, stickers: [{id, ...values, stamps}]}`, or null. */
export function lastState(deskId) {
  try {
    const state = JSON.parse(localStorage.getItem(STATE(deskId)) ?? 'null')
    return state !== null && Array.isArray(state.stickers) ? state : null
  } catch {
    return null
  }
}

export function keepState(deskId, state) {
  write(STATE(deskId), state)
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value))
  } catch {
    // full or forbidden: the desk still works, only not from this browser's copy
  }
}
