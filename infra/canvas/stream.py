"""The live stream renderer: a canvas's board as H.264 video with silent AAC audio in FLV,
pushed over RTMP (YouTube Live's ingest), or written to an FLV file or an HLS folder.

Frames are captured at a fixed rate (the board the follower keeps current, the strip's text),
then rendered, encoded with PyAV (libx264, the native AAC encoder) in a worker thread and
muxed, in order, by a sender that may fall a little behind the captures. A lost
connection is opened again with a growing pause (0.5 s doubling to 10 s), carrying on from
the board as it is then. The stream key is a secret: outputs are logged with it masked, and
errors by their kind only (FFmpeg's messages repeat the URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from infra.canvas.board_follower import BoardFollower
from infra.canvas.stream_frames import FrameRenderer

log = logging.getLogger(__name__)

SAMPLE_RATE = 44_100
AUDIO_FRAME = 1024
BACKOFF_S = (0.5, 10.0)
AHEAD_S = 0.25
"""How far the sender may fall behind the captured frames (their boards wait in memory)."""


@dataclass(frozen=True)
class Output:
    """Where the video goes: `rtmp://host/app/KEY` (a URL ending in `/` takes the key from
    settings), `hls:DIR`, or a file path (FLV)."""

    target: str
    format: str
    masked: str
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, *, key: str = "") -> Output:
        if text.startswith(("rtmp://", "rtmps://")):
            base, _, last = text.rpartition("/")
            secret = last or key
            if not secret:
                raise ValueError("an RTMP output needs a stream key (in the URL or "
                                 "TESSERA_HISTORY_STREAM_KEY)")
            return cls(f"{base}/{secret}", "flv", f"{base}/***",
                       {"rw_timeout": "5000000", "tcp_nodelay": "1"})
        if text.startswith("hls:"):
            folder = Path(text[4:])
            folder.mkdir(parents=True, exist_ok=True)
            return cls(str(folder / "index.m3u8"), "hls", text,
                       {"hls_time": "2", "hls_list_size": "10", "hls_flags": "delete_segments"})
        return cls(text, "flv", text)


class Encoder:
    """One open output: a video and a silent audio stream, and their clocks."""

    def __init__(self, output: Output, width: int, height: int, fps: int, *,
                 preset: str, bit_rate: int) -> None:
        self.container: Any = av.open(output.target, mode="w", format=output.format,
                                      options=output.options)
        try:
            video = self.container.add_stream("libx264", rate=fps)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.bit_rate = bit_rate
            video.options = {"preset": preset, "tune": "zerolatency", "bf": "0",
                             "g": str(2 * fps), "keyint_min": str(fps),
                             "maxrate": str(bit_rate), "bufsize": str(2 * bit_rate)}
            audio = self.container.add_stream("aac", rate=SAMPLE_RATE)
            audio.codec_context.layout = "stereo"
            audio.bit_rate = 128_000
        except Exception:
            self.container.close()
            raise
        self.video, self.audio = video, audio
        self.fps = fps
        self._silence = np.zeros((2, AUDIO_FRAME), dtype=np.float32)
        self._samples = 0

    def write(self, rgb: np.ndarray, index: int) -> None:
        """Frame number `index` (its time is index / fps), and the silence up to its end."""
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = index
        frame.time_base = Fraction(1, self.fps)
        self.container.mux(self.video.encode(frame))
        until = (index + 1) * SAMPLE_RATE // self.fps
        while self._samples < until:
            silence = av.AudioFrame.from_ndarray(self._silence, format="fltp", layout="stereo")
            silence.sample_rate = SAMPLE_RATE
            silence.pts = self._samples
            self.container.mux(self.audio.encode(silence))
            self._samples += AUDIO_FRAME

    def close(self) -> None:
        try:
            self.container.mux(self.video.encode())
            self.container.mux(self.audio.encode())
        finally:
            self.container.close()


@dataclass(frozen=True)
class Capture:
    """A frame as it was due: the board rows changed since the last one (their indices and a
    copy of them), the strip's text."""

    rows: tuple[np.ndarray, np.ndarray] | None
    text: str
    index: int


@dataclass
class StreamStats:
    frames: int = 0
    late: int = 0
    """Frames not captured within one frame interval of their due time (skipped)."""
    dropped: int = 0
    """Frames captured but not sent: the sender was `AHEAD_S` behind."""
    worst_late_s: float = 0.0
    connections: int = 0
    failures: int = 0


class StreamRenderer:
    def __init__(
        self,
        follower: BoardFollower,
        output: Output,
        *,
        width: int = 1280,
        height: int = 720,
        fps: int = 30,
        preset: str = "veryfast",
        bit_rate: int = 3_000_000,
        players: Callable[[], int] = lambda: 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not (1 <= fps <= 60 and 16 <= width <= 3840 and 16 <= height <= 2160):
            raise ValueError("fps 1-60, width 16-3840, height 16-2160")
        self.follower = follower
        self.output = output
        self.width, self.height, self.fps = width - width % 2, height - height % 2, fps
        self.preset, self.bit_rate = preset, bit_rate
        self.players = players
        self.clock = clock
        self.stats = StreamStats()
        self.renderer: FrameRenderer | None = None
        self._frame: np.ndarray | None = None

    def text(self) -> str:
        now = self.clock().strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"v{self.follower.version:,}   {self.players():,} players online   {now}"

    async def run(self, stop: asyncio.Event) -> StreamStats:
        """Stream until `stop` is set; reconnect on failures with backoff."""
        meta = self.follower.meta
        assert meta is not None, "start the follower first"
        self.renderer = FrameRenderer(meta.width, meta.height, meta.palette, width=self.width,
                                      height=self.height)
        pause = BACKOFF_S[0]
        while not stop.is_set():
            encoder: Encoder | None = None
            try:
                encoder = await asyncio.to_thread(
                    Encoder, self.output, self.width, self.height, self.fps,
                    preset=self.preset, bit_rate=self.bit_rate)
                self.stats.connections += 1
                log.info("streaming canvas %s to %s at %dx%d, %d fps", self.follower.canvas_id,
                         self.output.masked, self.width, self.height, self.fps)
                pause = BACKOFF_S[0]
                await self._frames(encoder, stop)
            except (av.FFmpegError, OSError) as error:
                self.stats.failures += 1
                log.warning("stream to %s failed (%s, errno %s); again in %.1f s",
                            self.output.masked, type(error).__name__,
                            getattr(error, "errno", None), pause)
            finally:
                if encoder is not None:
                    with contextlib.suppress(av.FFmpegError, OSError):
                        await asyncio.to_thread(encoder.close)
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                pause = min(pause * 2, BACKOFF_S[1])
        return self.stats

    async def _frames(self, encoder: Encoder, stop: asyncio.Event) -> None:
        """Capture a frame (the board and the strip's text) at each due time, by the loop's
        monotonic clock, and hand it to the sender: an encode that runs long (a keyframe, a
        busy core) delays the sending, not the capture, as long as the sender is less than
        `AHEAD_S` behind."""
        loop = asyncio.get_running_loop()
        captured: asyncio.Queue[Capture | None] = asyncio.Queue(max(1, int(AHEAD_S * self.fps)))
        sender = asyncio.create_task(self._send_captured(encoder, captured))
        interval = 1 / self.fps
        start = loop.time()
        index = 0
        try:
            while not stop.is_set() and not sender.done():
                wait = start + index * interval - loop.time()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), wait)
                    continue
                if -wait > interval:  # more than a frame late: skip to the frame due now
                    self.stats.late += 1
                    self.stats.worst_late_s = max(self.stats.worst_late_s, -wait)
                    index = int((loop.time() - start) / interval)
                rows = self.follower.take_rows()
                try:
                    captured.put_nowait(Capture(rows, self.text(), index))
                except asyncio.QueueFull:  # the sender is AHEAD_S behind: this frame is lost
                    self.stats.dropped += 1
                    if rows is not None:  # taken for nothing: the next capture takes them again
                        self.follower.mark(rows[0])
                index += 1
        finally:
            if not sender.done():
                await captured.put(None)  # the sender sends what was captured, then ends
            await sender

    async def _send_captured(self, encoder: Encoder, captured: asyncio.Queue[Capture | None]
                             ) -> None:
        while (capture := await captured.get()) is not None:
            await asyncio.to_thread(self._send, encoder, capture)
            self.stats.frames += 1

    def _send(self, encoder: Encoder, capture: Capture) -> None:
        assert self.renderer is not None
        if capture.rows is not None:
            self._frame = self.renderer.render_rows(*capture.rows, capture.text)
        else:
            self._frame = self.renderer.render_text(capture.text)
        encoder.write(self._frame, capture.index)
