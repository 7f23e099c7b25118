/**
 * Hybrid logical clock stamps `[wall_ms, counter, client_id]`: they follow the wall clock, never
 * go back, and move past every stamp seen, so a change made after seeing another one wins.
 */

export function compareStamps(a, b) {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1
  if (a[2] === b[2]) return 0
  return a[2] < b[2] ? -1 : 1
}

export class Clock {
  #offsetMs = 0

  constructor(clientId) {
    this.clientId = clientId
    this.last = [0, 0, clientId]
  }

  now() {
    return Date.now() + this.#offsetMs
  }

  /** The stamp of a new local change. */
  tick() {
    const wall = this.now()
    this.last = wall > this.last[0] ? [wall, 0, this.clientId] : [this.last[0], this.last[1] + 1, this.clientId]
    return [...this.last]
  }

  /** Another change was seen (ours replayed, or anyone's): the next tick comes after it. */
  observe(stamp) {
    if (stamp[0] > this.last[0] || (stamp[0] === this.last[0] && stamp[1] > this.last[1])) {
      this.last = [stamp[0], stamp[1], this.clientId]
    }
  }

  /** The server said our clock runs ahead of its own: follow the server's from now on. */
  followServer(serverMs) {
    this.#offsetMs = serverMs - Date.now()
    this.last = [serverMs, 0, this.clientId]
  }
}
