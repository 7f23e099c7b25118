/**
 * The "Timelapse" action: a dialog that starts a render of the canvas's whole history
 * (`POST /api/canvas/{id}/timelapse`; the same parameters find the same job), shows its progress
 * from `GET …/timelapse/{job}` as a progress bar, then plays the video and offers it to download.
 */

import { ApiFailure, getJson, postJson } from '../api.js'

const POLL_MS = 500
const LONG_SIDE = 720 // the video's longer side, in pixels, before rounding to the board

export class Timelapse {
  #canvas = null
  #job = null
  #polling = 0

  constructor(dialog, opener) {
    this.dialog = dialog
    this.field = (name) => dialog.querySelector(`[data-field="${name}"]`)
    opener.addEventListener('click', () => this.open())
    dialog.querySelector('form').addEventListener('submit', (event) => {
      event.preventDefault()
      this.start()
    })
    dialog.querySelector('[data-action="close"]').addEventListener('click', () => this.close())
    dialog.addEventListener('close', () => this.#stopPolling())
    const webm = document.createElement('video').canPlayType('video/webm; codecs="vp9"')
    if (webm === '') this.field('format').value = 'mp4'
  }

  setCanvas(canvas) {
    this.#canvas = canvas
  }

  open() {
    this.#show('idle')
    this.dialog.showModal()
  }

  close() {
    this.#stopPolling()
    this.dialog.close()
  }

  async start() {
    const canvas = this.#canvas
    if (canvas === null) return
    const scale = Math.min(64, LONG_SIDE / Math.max(canvas.width, canvas.height))
    this.#show('starting')
    try {
      this.#job = await postJson(`/api/canvas/${canvas.id}/timelapse`, {
        seconds: Number(this.field('seconds').value),
        fps: 30,
        scale: Math.round(scale * 1000) / 1000,
        format: this.field('format').value,
      })
      this.#render(this.#job)
      this.#poll(canvas)
    } catch (error) {
      this.#fail(error)
    }
  }

  #poll(canvas) {
    this.#stopPolling()
    const job = this.#job
    if (job.status === 'done' || job.status === 'failed') return
    this.#polling = setTimeout(async () => {
      try {
        this.#job = await getJson(`/api/canvas/${canvas.id}/timelapse/${encodeURIComponent(job.job)}`)
        this.#render(this.#job)
        this.#poll(canvas)
      } catch (error) {
        if (error instanceof TypeError) { // offline for a moment: ask again
          this.field('state').textContent = 'Offline: waiting for the connection…'
          this.#poll(canvas)
        } else {
          this.#fail(error)
        }
      }
    }, POLL_MS)
  }

  #stopPolling() {
    clearTimeout(this.#polling)
    this.#polling = 0
  }

  #render(job) {
    const bar = this.field('progress')
    bar.value = job.progress
    bar.setAttribute('aria-valuetext', `${Math.round(job.progress * 100)}%`)
    if (job.status === 'failed') {
      this.#fail(new Error(job.error ?? 'the render failed'))
      return
    }
    if (job.status !== 'done') {
      this.#show('rendering')
      const share = Math.floor(job.progress * 100)
      this.field('state').textContent = job.status === 'queued'
        ? 'Waiting for a renderer…'
        : `Rendering: frame ${job.frames_done.toLocaleString()} of ${job.frames.toLocaleString()} (${share}%)`
      return
    }
    this.#show('done')
    this.field('state').textContent = `Ready: ${job.frames.toLocaleString()} frames, ${sizeOf(job.size)}`
    const video = this.field('video')
    if (video.getAttribute('src') !== job.url) video.src = job.url
    const download = this.field('download')
    download.href = job.url
    download.download = `timelapse-${this.#canvas.id}.${job.format}`
  }

  #fail(error) {
    this.#show('failed')
    this.field('problem').textContent = error instanceof ApiFailure || error instanceof Error
      ? `The timelapse could not be made: ${error.message}`
      : 'The timelapse could not be made.'
  }

  /** idle (the form), starting, rendering (the bar), done (the video), failed (the problem). */
  #show(step) {
    this.dialog.dataset.step = step
    this.field('form').hidden = step !== 'idle' && step !== 'failed'
    this.field('render').disabled = step === 'starting'
    this.field('progress-row').hidden = step === 'idle' || step === 'failed'
    this.field('result').hidden = step !== 'done'
    this.field('problem').hidden = step !== 'failed'
    if (step === 'starting') this.field('state').textContent = 'Starting…'
    if (step === 'idle') this.field('progress').value = 0
  }
}

function sizeOf(bytes) {
  if (bytes === null || bytes === undefined) return 'size unknown'
  return bytes < 1_000_000 ? `${Math.ceil(bytes / 1000)} kB` : `${(bytes / 1_000_000).toFixed(1)} MB`
}
