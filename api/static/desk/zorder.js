/**
 * Fractional indexes for z-order: strings of [0-9A-Za-z] compared as plain strings (ASCII order,
 * as the server and every replica compare them).
 */

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const MAX_LENGTH = 64

/** A key greater than `top` (or the first key when there is none). */
export function keyAbove(top) {
  if (top === null) return 'a0'
  const last = DIGITS.indexOf(top.at(-1))
  if (last >= 0 && last < DIGITS.length - 1) return top.slice(0, -1) + DIGITS[last + 1]
  if (top.length < MAX_LENGTH) return `${top}1`
  return top // as high as a key goes: ties are broken by sticker id
}

/** Sticker ids bottom to top. */
export function stackOrder(stickers) {
  return [...stickers].sort((a, b) => (a.z < b.z ? -1 : a.z > b.z ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
