"""The canvas context's Application: creates canvases and runs one writer per canvas."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import Transcoder

from commands import stored
from commands.actor import Actor
from commands.canvas.wire import (
    CanvasCommand,
    ClearCanvas,
    CloseCanvas,
    CreateCanvas,
    FillRectangle,
    PlacePixel,
    ReopenCanvas,
)
from commands.clock import utc_now
from commands.codec import MsgspecTranscoder
from commands.writer import AggregateWriter
from commands.writer_thread import answer_for, unavailable
from domain.canvas import Canvas, CanvasError, Placement


class CanvasNotFound(CanvasError):
    code = "canvas_not_found"


class Order(NamedTuple):
    """A command as a canvas's writer queues it: who sent it, and the version of the canvas this
    node knew stored when it took it (`Canvas.place`'s `seen`)."""

    actor: Actor
    body: CanvasCommand
    seen: int | None = None


def decide(canvas: Canvas, order: Order, now: datetime) -> Placement:
    actor, body, seen = order
    match body:
        case PlacePixel(x=x, y=y, colour=colour, op=op):
            return canvas.place(
                x=x, y=y, colour=colour, user=actor.user, now=now, op=op,
                is_admin=actor.is_admin, seen=seen,
            )  # fmt: skip
        case FillRectangle(x=x, y=y, width=width, height=height, colour=colour):
            return canvas.fill(
                x=x, y=y, width=width, height=height, colour=colour, user=actor.user, now=now
            )
        case ClearCanvas():
            return canvas.clear(user=actor.user, now=now)
        case CloseCanvas():
            return canvas.close(user=actor.user, now=now)
        case ReopenCanvas():
            return canvas.reopen(user=actor.user, now=now)
    raise TypeError(f"not a canvas command: {body!r}")


class Canvases(Application[UUID]):
    name = "canvases"
    is_snapshotting_enabled = True

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        linger_s: float = 0.002,
        max_batch: int = 2000,
        snapshot_every: int = 10_000,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._snapshot_every = snapshot_every
        self._writers: dict[UUID, AggregateWriter[Canvas, Order]] = {}
        self._writers_lock = threading.Lock()
        self._cooldowns: dict[UUID, int] = {}

    def construct_transcoder(self) -> Transcoder:
        return MsgspecTranscoder()

    def create_canvas(self, command: CreateCanvas, *, canvas_id: UUID | None = None) -> Canvas:
        canvas = Canvas.create(
            canvas_id=canvas_id or uuid4(),
            title=command.title,
            width=command.width,
            height=command.height,
            palette=command.palette,
            cooldown_ms=command.cooldown_ms,
            now=self.clock(),
        )
        self.save(canvas)
        return canvas

    def get_canvas(self, canvas_id: UUID) -> Canvas:
        return stored.get(self, canvas_id, Canvas, CanvasNotFound(f"no canvas {canvas_id}"))

    def writer(self, canvas_id: UUID) -> AggregateWriter[Canvas, Order]:
        """The one writer of this canvas in this process, started on first use."""
        with self._writers_lock:
            writer = self._writers.get(canvas_id)
            if writer is None:
                # refuse unknown canvases before starting a thread; a cooldown never changes
                try:
                    canvas = self.get_canvas(canvas_id)
                except Exception as error:
                    if unavailable(error):
                        raise answer_for(error) from error
                    raise
                self._cooldowns[canvas_id] = canvas.cooldown_ms
                writer = AggregateWriter(
                    name=str(canvas_id),
                    app=self,
                    load=lambda: self.get_canvas(canvas_id),
                    loaded=canvas,
                    decide=decide,
                    clock=self.clock,
                    linger_s=self._linger_s,
                    max_batch=self._max_batch,
                    snapshot_every=self._snapshot_every,
                    domain_errors=(CanvasError,),
                )
                writer.start()
                self._writers[canvas_id] = writer
            return writer

    async def open_writer(
        self, canvas_id: UUID
    ) -> AggregateWriter[Canvas, Order]:
        """The canvas's writer, loading the canvas off the event loop the first time; raises
        `CanvasNotFound` for a canvas that does not exist."""
        writer = self._writers.get(canvas_id)
        if writer is None:
            writer = await asyncio.to_thread(self.writer, canvas_id)
        return writer

    def cooldown_ms(self, canvas_id: UUID) -> int:
        """The canvas's cooldown, known here once its writer runs (0 before)."""
        return self._cooldowns.get(canvas_id, 0)

    async def execute(self, canvas_id: UUID, actor: Actor, command: CanvasCommand) -> Placement:
        """Run a command through the canvas's writer; returns once it is committed."""
        writer = await self.open_writer(canvas_id)
        answer: Placement = await writer.submit(Order(actor, command, writer.stored_version))
        return answer

    def stop_writers(self) -> None:
        with self._writers_lock:
            writers, self._writers = list(self._writers.values()), {}
        for writer in writers:
            writer.stop()
