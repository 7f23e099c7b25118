"""A node's side of live matches: commands through the writer, then the committed frame fanned
out on core NATS (`<prefix>.billiards.<match id>`), and what a reconnecting client missed.

The live rule's desk case: the writer's commit callback publishes, because it owns the match
version every frame carries and a shot must reach the scoreboards at once (the matches read
model is not on that path). A node hands its frames to its own sockets directly and publishes
them for the other nodes on a connection NATS does not echo to.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
from nats.aio.client import Client as NATS

from commands.billiards.billiards import Billiards, Decided
from commands.billiards.wire import Act
from commands.writer_thread import settle
from infra.live.fanout import Fanout
from infra.live.socket import text_frame

log = logging.getLogger(__name__)

PUBLISH_GATHER_S = 0.002


class FrameHead(msgspec.Struct):
    type: str
    version: int = 0


head_of = msgspec.json.Decoder(FrameHead).decode


class MatchHub:
    def __init__(
        self, app: Billiards, frames_nc: NATS, *, prefix: str, capacity: int = 256
    ) -> None:
        self.app = app
        self.frames_nc = frames_nc
        self._prefix = prefix
        self.fanout = Fanout(
            frames_nc, self.subject, context="billiards", capacity=capacity, encode=text_frame,
            describe=head_of,
        )
        self._outgoing: list[tuple[str, bytes]] = []
        self._sender: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[UUID, Decided], None]] = []

    def subject(self, key: str) -> str:
        return f"{self._prefix}.billiards.{key}"

    def on_committed(self, listener: Callable[[UUID, Decided], None]) -> None:
        """Call `listener` on the event loop after each match command is committed here (the
        club queues watch for ends)."""
        self._listeners.append(listener)

    async def stop(self) -> None:
        if self._sender is not None:
            await asyncio.wait({self._sender}, timeout=2)
        with contextlib.suppress(Exception):
            await self.frames_nc.drain()

    async def execute(self, match_id: UUID, act: Act) -> Decided:
        """Run a command through the writer; once committed its frame goes out, then the
        caller gets the answer (or the error that refused it)."""
        future: asyncio.Future[Decided] = asyncio.get_running_loop().create_future()
        self.app.writer.submit_reply(
            match_id, act, functools.partial(self._committed, match_id, future)
        )
        return await future

    def _committed(self, match_id: UUID, future: asyncio.Future[Decided], answer: Any) -> None:
        if type(answer) is Decided and answer.frame is not None:
            self.publish(match_id, answer.frame)
            for listener in self._listeners:
                try:
                    listener(match_id, answer)
                except Exception:
                    log.exception("a listener of match %s failed", match_id)
        settle(future, answer)

    def publish(self, match_id: UUID, frame: bytes) -> None:
        key = str(match_id)
        self.fanout.add(key, frame)
        self._outgoing.append((self.subject(key), frame))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_outgoing())

    async def _send_outgoing(self) -> None:
        await asyncio.sleep(PUBLISH_GATHER_S)
        while self._outgoing:
            frames, self._outgoing = self._outgoing, []
            for subject, frame in frames:
                try:
                    await self.frames_nc.publish(subject, frame)
                except Exception:  # committed: clients catch up by version
                    log.exception("could not fan out a frame on %s", subject)

    async def frames_since(self, match_id: UUID, version: int) -> tuple[list[bytes], int]:
        return await asyncio.to_thread(self.app.frames_since, match_id, version)
