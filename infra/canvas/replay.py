"""`tessera replay`: a canvas's history played back as video at N times its real pace, from a
historical board (keyframe plus events), through the stream renderer's frames and encoder
(a file, HLS, or RTMP: the analyst's board in any player)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from infra.canvas.history_view import HistoryView
from infra.canvas.stream import Encoder, Output
from infra.canvas.stream_frames import FrameRenderer
from projections.canvas.bitmap import CanvasMeta
from projections.canvas.history import event_time, paint
from projections.recorded import Recorded

PAGE = 20_000
TAIL_S = 1.0
"""Frames of the final board after the last event."""


@dataclass
class Replayed:
    frames: int = 0
    version: int = 0


async def replay(
    history: HistoryView,
    meta: CanvasMeta,
    output: Output,
    *,
    start: int,
    until: int,
    speed: float,
    fps: int = 30,
    width: int = 1280,
    height: int = 720,
    stop: asyncio.Event | None = None,
) -> Replayed:
    """Play versions (start, until] back, `speed` times as fast as they happened."""
    if not (0 <= start <= until and speed > 0 and 1 <= fps <= 60):
        raise ValueError("replay needs 0 ≤ from ≤ until, a positive speed and 1 to 60 fps")
    stop = stop or asyncio.Event()
    board = await history.board_at(meta.canvas_id, meta.width, meta.height, start)
    renderer = FrameRenderer(meta.width, meta.height, meta.palette, width=width, height=height)
    encoder = await asyncio.to_thread(Encoder, output, renderer.width - renderer.width % 2,
                                      renderer.height - renderer.height % 2, fps,
                                      preset="veryfast", bit_rate=3_000_000)
    done = Replayed(version=start)
    pending: deque[tuple[datetime, Recorded]] = deque()
    read_to = start
    origin: datetime | None = None
    tail = int(TAIL_S * fps)
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        while not stop.is_set():
            if len(pending) < PAGE // 2 and read_to < until:
                events = await history.list_events(meta.canvas_id, read_to,
                                                   min(read_to + PAGE, until))
                pending.extend((event_time(e.state), e) for e in events)
                read_to = events[-1].originator_version if events else until
            if origin is None:
                origin = pending[0][0] if pending else datetime.now().astimezone()
            played_to = origin + timedelta(seconds=(loop.time() - began) * speed)
            due = []
            while pending and pending[0][0] <= played_to:
                due.append(pending.popleft()[1])
            if due:
                paint(board, meta.width, due)
                done.version = due[-1].originator_version
            text = f"replay v{done.version:,}  x{speed:g}  {played_to:%Y-%m-%d %H:%M:%S} UTC"
            frame = renderer.render(board, text)
            await asyncio.to_thread(encoder.write, frame, done.frames)
            done.frames += 1
            if not pending and read_to >= until:
                tail -= 1
                if tail <= 0:
                    break
            wait = began + done.frames / fps - loop.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
    finally:
        await asyncio.to_thread(encoder.close)
    return done
