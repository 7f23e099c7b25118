/** Charts of the stats screens, drawn as inline SVG (no library): a line, or bars. */

const SVG = 'http://www.w3.org/2000/svg'

function fixed(value, digits = 1) {
  return Number(value).toFixed(digits)
}

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v)
  return node
}

/** A chart of `values` (one per match, oldest first): a line, or bars. */
export function chart(values, { bars = false, label = '' } = {}) {
  const width = 320
  const height = 120
  const pad = 22
  const box = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart' })
  box.append(svg('title', {}))
  box.firstChild.textContent = label
  if (values.length === 0) return box
  const low = Math.min(0, ...values)
  const high = Math.max(...values, low + 1)
  const band = (width - 2 * pad) / values.length
  const x = bars
    ? (i) => pad + (i + 0.5) * band
    : (i) => pad + (values.length === 1 ? (width - 2 * pad) / 2 : (i * (width - 2 * pad)) / (values.length - 1))
  const y = (v) => height - pad - ((v - low) * (height - 2 * pad)) / (high - low)
  box.append(svg('line', { x1: pad, x2: width - pad, y1: y(0), y2: y(0), class: 'axis' }))
  for (const v of [low, high]) {
    const text = svg('text', { x: 2, y: y(v) + 4, class: 'tick' })
    text.textContent = fixed(v)
    box.append(text)
  }
  if (bars) {
    const w = Math.max(2, Math.min(24, band - 2))
    values.forEach((v, i) => {
      box.append(svg('rect', { x: x(i) - w / 2, y: Math.min(y(v), y(0)), width: w, height: Math.abs(y(0) - y(v)), class: 'bar' }))
    })
  } else {
    const points = values.map((v, i) => `${fixed(x(i), 1)},${fixed(y(v), 1)}`).join(' ')
    box.append(svg('polyline', { points, class: 'line' }))
    const last = values.length - 1
    box.append(svg('circle', { cx: x(last), cy: y(values[last]), r: 3, class: 'dot' }))
  }
  return box
}
