/**
 * The desk's keyboard: Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y) undo and redo, Delete removes the
 * selection, Enter edits the selected sticker, arrows nudge the selection (Shift: 10 px), Ctrl+A
 * selects all, Ctrl+C / Ctrl+V copy and paste stickers (plain text pasted becomes a sticker),
 * Ctrl+D duplicates, N adds a sticker, Ctrl+= / Ctrl+- zoom, Shift+1 zooms to fit, Escape
 * clears the selection.
 */

const NUDGES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }

/** `desk`: {layer, undo, redo, removeSelected, nudge(dx, dy), copy(), paste(text?), duplicate(),
 *  selectAll(), newSticker(), zoomIn(), zoomOut(), zoomFit(), zoomReset()} */
export function bindKeys(desk) {
  const typing = (event) => desk.layer.editing !== null || event.target.isContentEditable
    || ['INPUT', 'TEXTAREA'].includes(event.target.tagName) || event.target.closest?.('dialog')

  addEventListener('keydown', (event) => {
    if (typing(event)) return
    const mod = event.ctrlKey || event.metaKey
    const key = event.key.toLowerCase()
    const selected = desk.layer.selection.size > 0
    let handled = true
    if (mod && key === 'z') event.shiftKey ? desk.redo() : desk.undo()
    else if (mod && key === 'y') desk.redo()
    else if (mod && key === 'a') desk.selectAll()
    else if (mod && key === 'd' && selected) desk.duplicate()
    else if (mod && key === 'c' && selected) desk.copy()
    else if (mod && key === 'v' && desk.hasCopy()) desk.paste()
    else if (mod && (key === '=' || key === '+')) desk.zoomIn()
    else if (mod && key === '-') desk.zoomOut()
    else if (mod && key === '0') desk.zoomReset()
    else if (event.shiftKey && event.code === 'Digit1') desk.zoomFit()
    else if ((event.key === 'Delete' || event.key === 'Backspace') && selected) desk.removeSelected()
    else if (event.key === 'Enter' && desk.layer.selected) desk.layer.edit(desk.layer.selected)
    else if (event.key in NUDGES && selected) {
      const [dx, dy] = NUDGES[event.key].map((d) => d * (event.shiftKey ? 10 : 1))
      desk.nudge(dx, dy)
    } else if (event.key === 'Escape' && selected) desk.layer.select(null)
    else if (key === 'n' && !mod && !event.altKey) desk.newSticker()
    else handled = false
    if (handled) event.preventDefault()
  })

  // Text from elsewhere (another app, another page): a new sticker holding it.
  addEventListener('paste', (event) => {
    if (typing(event)) return
    const text = event.clipboardData?.getData('text/plain') ?? ''
    if (text.trim() === '') return
    event.preventDefault()
    desk.paste(text)
  })
}
