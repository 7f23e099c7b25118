"""A session's live frames on this node: its sockets (seats), the frames each one is sent, and
the timers that close tasks when their time is up.

The writer's frames (`commands.quiz.frames`) are published once their events are saved, by the
node that ran the command (the live rule's writer case): to this node's seats at once, and to the
other nodes' on `<prefix>.quiz.<session>` over a `no_echo` connection. Most frames are the same
bytes for every seat; `results` and `ended` are encoded once without their `players` part, and
each player's seat gets the shared part with its own entry as `you`. Host-only frames (`joined`,
`answered`, `kicked`) go to hosts; `answered` is coalesced to at most one each 100 ms.

Each seat has a bounded queue (`infra.live.fanout.Listener`): frames go straight to its socket
while it keeps up; one that falls `capacity` frames behind is told to resync and closed (4408).
A seat that (re)joins is given the state at version V and skips frames up to V.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from nats.aio.client import Client as NATS

from commands.quiz.frames import you_in_ended, you_in_results
from infra.live.fanout import Listener
from infra.live.socket import text_frame

log = logging.getLogger(__name__)

HOST_ONLY = frozenset({"joined", "answered"})
ANSWERED_EVERY_S = 0.1
_encode = msgspec.json.Encoder().encode


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(eq=False)
class Seat:
    """One socket of a session on this node: a player's (`player_id`) or a host's (None)."""

    player_id: str | None
    listener: Listener
    floor: int = 0
    """Frames up to this version are in the state the seat was given."""
    delivered: dict[int, int] = field(default_factory=dict)
    """Task index -> when this node handed the task to the socket (epoch ms)."""
    on_kicked: Callable[[], None] | None = None

    def offer(self, seq: int, message: bytes) -> None:
        if seq > self.floor:
            self.listener.offer(message, text_frame(message))


class _Numbered(msgspec.Struct):
    seq: int = 0


_numbered = msgspec.json.Decoder(_Numbered)


def seq_of(queued: bytes) -> int:
    """The version of a frame a seat's queue holds."""
    return _numbered.decode(queued).seq


Close = Callable[[UUID, int], Awaitable[Any]]
"""Submit `CloseTask(index)` for a session (the writer decides whether it is due)."""


class QuizHub:
    def __init__(self, frames_nc: NATS, *, prefix: str, capacity: int) -> None:
        self.frames_nc = frames_nc
        self._prefix = prefix
        self._capacity = capacity
        self._seats: dict[UUID, set[Seat]] = {}
        self._subscriptions: dict[UUID, Any] = {}
        self._timers: dict[UUID, asyncio.TimerHandle] = {}
        self._answered: dict[UUID, dict[str, Any]] = {}
        self._answered_due: set[UUID] = set()
        self._close: Close | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def subject(self, session_id: UUID) -> str:
        return f"{self._prefix}.quiz.{session_id}"

    def closing_with(self, close: Close) -> None:
        self._close = close

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.frames_nc.drain()

    # -- seats ----------------------------------------------------------------------------------

    async def sit(self, session_id: UUID, player_id: str | None) -> Seat:
        seat = Seat(player_id, Listener(self._capacity))
        seats = self._seats.setdefault(session_id, set())
        seats.add(seat)
        if session_id not in self._subscriptions:
            self._subscriptions[session_id] = None
            subscription = await self.frames_nc.subscribe(
                self.subject(session_id), cb=self._from_other_node(session_id)
            )
            if self._seats.get(session_id):
                self._subscriptions[session_id] = subscription
                await self.frames_nc.flush()
            else:
                await subscription.unsubscribe()
        return seat

    async def leave(self, session_id: UUID, seat: Seat) -> None:
        seats = self._seats.get(session_id)
        if seats is None:
            return
        seats.discard(seat)
        if not seats:
            del self._seats[session_id]
            subscription = self._subscriptions.pop(session_id, None)
            if subscription is not None:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    def seats(self, session_id: UUID) -> int:
        return len(self._seats.get(session_id, ()))

    # -- frames ---------------------------------------------------------------------------------

    def publish(self, session_id: UUID, frames: list[dict[str, Any]]) -> None:
        """Frames of committed events: to the seats here, to the other nodes, and the timers."""
        for frame in frames:
            self._timer_for(session_id, frame)
            if frame["type"] == "answered":
                self._coalesce(session_id, frame)
                continue
            self._deliver(session_id, frame)
            self._send_on(session_id, frame)

    def _send_on(self, session_id: UUID, frame: dict[str, Any]) -> None:
        async def send() -> None:
            try:
                await self.frames_nc.publish(self.subject(session_id), _encode(frame))
            except Exception:
                log.exception("could not fan out a quiz frame")

        self._spawn(send())

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _from_other_node(self, session_id: UUID) -> Callable[[Any], Awaitable[None]]:
        async def deliver(message: Any) -> None:
            try:
                frame = msgspec.json.decode(message.data)
            except msgspec.DecodeError:
                return
            self._deliver(session_id, frame)

        return deliver

    def _coalesce(self, session_id: UUID, frame: dict[str, Any]) -> None:
        self._answered[session_id] = frame
        if session_id in self._answered_due:
            return
        self._answered_due.add(session_id)

        def flush() -> None:
            self._answered_due.discard(session_id)
            latest = self._answered.pop(session_id, None)
            if latest is not None:
                self._deliver(session_id, latest)
                self._send_on(session_id, latest)

        asyncio.get_running_loop().call_later(ANSWERED_EVERY_S, flush)

    def _deliver(self, session_id: UUID, frame: dict[str, Any]) -> None:
        seats = self._seats.get(session_id)
        if not seats:
            return
        kind = frame["type"]
        seq: int = frame["seq"]
        if kind in ("results", "ended"):
            self._deliver_personal(seats, frame)
            return
        if kind == "task":
            frame = {**frame, "server_ms": now_ms()}
        message = _encode(frame)
        at = now_ms()
        for seat in tuple(seats):
            if seat.player_id is None:
                seat.offer(seq, message)
            elif kind == "kicked":
                if frame["player_id"] == seat.player_id:
                    seat.offer(seq, message)
                    if seat.on_kicked is not None:
                        seat.on_kicked()
            elif kind not in HOST_ONLY:
                if kind == "task":
                    seat.delivered.setdefault(frame["index"], at)
                seat.offer(seq, message)

    def _deliver_personal(self, seats: set[Seat], frame: dict[str, Any]) -> None:
        players: dict[str, Any] = frame["players"]
        shared = {k: v for k, v in frame.items() if k != "players"}
        seq: int = frame["seq"]
        host = _encode(shared)
        tail = host[1:]  # `"type":…}` after the opening brace
        personal = you_in_results if frame["type"] == "results" else you_in_ended
        for seat in tuple(seats):
            if seat.player_id is None:
                seat.offer(seq, host)
            else:
                you = _encode(personal(players.get(seat.player_id)))
                seat.offer(seq, b'{"you":' + you + b"," + tail)

    # -- timers ---------------------------------------------------------------------------------

    def _timer_for(self, session_id: UUID, frame: dict[str, Any]) -> None:
        match frame["type"]:
            case "task" | "resumed":
                self.arm(session_id, frame["index"], frame["deadline_ms"])
            case "paused" | "results" | "ended":
                timer = self._timers.pop(session_id, None)
                if timer is not None:
                    timer.cancel()

    def arm(self, session_id: UUID, index: int, deadline_ms: int) -> None:
        """Close the task at its deadline (this node ran the command that set it, or found it
        running at start)."""
        old = self._timers.pop(session_id, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, (deadline_ms - now_ms()) / 1000) + 0.005
        loop = asyncio.get_running_loop()
        self._timers[session_id] = loop.call_later(delay, self._due, session_id, index)

    def _due(self, session_id: UUID, index: int) -> None:
        self._timers.pop(session_id, None)
        if self._close is not None:
            self._spawn(self._close(session_id, index))
