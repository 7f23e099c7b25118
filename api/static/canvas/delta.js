/**
 * The delta format, live and catch-up alike: a 16-byte header (`from`, `to`: little-endian u64),
 * then little-endian u32 entries `(y * width + x) << 5 | colour`.
 */

/** Every pixel goes back to colour 0 (a new season); later entries paint on the blank board. */
export const RESET = 0xffffffff
/** The delta was too large to send live: load the snapshot at its `to` version instead. */
export const RELOAD = 0xfffffffe

const HEADER_BYTES = 16
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

export function parseDelta(buffer) {
  const size = buffer.byteLength
  if (size < HEADER_BYTES || (size - HEADER_BYTES) % 4 !== 0) {
    throw new Error(`not a delta: ${size} bytes`)
  }
  const view = new DataView(buffer)
  const from = Number(view.getBigUint64(0, true))
  const to = Number(view.getBigUint64(8, true))
  const count = (size - HEADER_BYTES) / 4
  let entries
  if (LITTLE_ENDIAN) {
    entries = new Uint32Array(buffer, HEADER_BYTES, count)
  } else {
    entries = new Uint32Array(count)
    for (let i = 0; i < count; i++) entries[i] = view.getUint32(HEADER_BYTES + 4 * i, true)
  }
  return { from, to, entries, reload: entries.includes(RELOAD) }
}
