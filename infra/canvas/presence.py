"""Player presence across API nodes: one roster per canvas in a NATS KV bucket, changed by
compare-and-set, mirrored on every node by one watcher, and swept by one scheduled job per node
that sleeps until the next expiry (never a timer per player).

A node batches what its sockets report: joins are committed at once (the joiner waits for its
standing), game actions at most every `flush_ms` (a player's AFK time may be late by that much
on other nodes, never early on their own). Local seats, the signed-in live sockets, hear about
every change to their standing.

While NATS is away nobody can be seated: a join raises `RosterUnavailable` (at once when the
connection is known to be down, else once the commit fails), never answers from the stale mirror
as if the newcomer had to queue. Players the mirror shows playing go on placing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import msgspec
from nats.js import JetStreamContext
from nats.js.errors import KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from domain.roster import PlayerState, Roster, Standing, window_start
from infra.tasks import stop_requested

log = logging.getLogger(__name__)

ROSTER_TTL_S = 24 * 3600
"""A canvas nobody touched for a day loses its roster (everyone in it is long AFK)."""

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Roster).decode


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def _always() -> bool:
    return True


class RosterUnavailable(Exception):
    """The players' roster (its NATS KV entry) cannot be changed now: nobody can be seated."""

    code = "unavailable"

    def __init__(self) -> None:
        super().__init__("the players' roster is unreachable (NATS is away): try again shortly")


class Seat(Protocol):
    """A signed-in live socket on this node."""

    user: str

    def standing_changed(self, standing: Standing) -> None:
        """Called on every roster change; must not block."""


@dataclass
class _Pending:
    joins: dict[str, asyncio.Future[bool]] = field(default_factory=dict)
    """Each joiner's answer: whether the commit reached the roster."""
    seen: dict[str, int] = field(default_factory=dict)


class Presence:
    def __init__(
        self,
        kv: KeyValue,
        *,
        cap: int,
        window_ms: int,
        clock: Callable[[], int] = wall_clock_ms,
        flush_ms: int = 1000,
        connected: Callable[[], bool] = _always,
    ) -> None:
        """`connected`: whether the NATS connection is up now (a join while it is down is
        refused at once instead of waiting for the commit to time out)."""
        self._kv = kv
        self._connected = connected
        self.cap = cap
        self.window_ms = window_ms
        self.clock = clock
        self._flush_ms = flush_ms
        self._rosters: dict[str, tuple[int, bytes, Roster]] = {}
        """Canvas → (KV revision, stored bytes, decoded roster): this node's mirror."""
        self._seats: dict[str, set[Seat]] = {}
        self._pending: dict[str, _Pending] = {}
        self._commit_now = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._heartbeat_at = 0

    @classmethod
    async def open(cls, js: JetStreamContext, bucket: str, **options: object) -> Presence:
        try:
            kv = await js.key_value(bucket)
        except Exception:  # noqa: BLE001 - BucketNotFoundError or an older server's variant
            kv = await js.create_key_value(bucket=bucket, history=1, ttl=ROSTER_TTL_S)
        return cls(kv, **options)  # type: ignore[arg-type]

    async def start(self) -> None:
        watcher = await self._kv.watchall()
        self._tasks = [
            asyncio.create_task(self._follow(watcher), name="presence-watch"),
            asyncio.create_task(self._commit_loop(), name="presence-commit"),
            asyncio.create_task(self._schedule(), name="presence-schedule"),
        ]
        self._watcher = watcher

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._watcher.stop()

    # -- what sockets and handlers ask -------------------------------------------------------

    async def join(self, canvas: str, user: str) -> Standing:
        """Ask to play: committed before this returns, so the standing is the roster's. Raises
        `RosterUnavailable` when the roster cannot be reached."""
        if not self._connected():
            raise RosterUnavailable
        pending = self._pending.setdefault(canvas, _Pending())
        joined = pending.joins.get(user)
        if joined is None:
            joined = pending.joins[user] = asyncio.get_running_loop().create_future()
        self._commit_now.set()
        if not await asyncio.shield(joined):
            raise RosterUnavailable
        return self.standing(canvas, user)

    def acted(self, canvas: str, user: str, cooldown_ms: int = 0) -> None:
        """A game action: keeps the player playing for another window, which starts once they
        may place again (at the end of the action's cooldown)."""
        pending = self._pending.setdefault(canvas, _Pending())
        now = self.clock()
        start = window_start(now, now + cooldown_ms)
        pending.seen[user] = max(pending.seen.get(user, start), start)

    def standing(self, canvas: str, user: str) -> Standing:
        standing = self._roster(canvas).standings(self.clock(), self.window_ms).of(user)
        if standing.state is PlayerState.AFK and self.is_playing(canvas, user):
            return msgspec.structs.replace(standing, state=PlayerState.PLAYING)
        return standing

    def is_playing(self, canvas: str, user: str) -> bool:
        """The hot path of every placement: no queue scan, and actions not yet committed count."""
        roster = self._roster(canvas)
        last = roster.players.get(user)
        if last is None:
            return False
        pending = self._pending.get(canvas)
        if pending is not None:
            last = max(last, pending.seen.get(user, last))
        return last > self.clock() - self.window_ms

    def totals(self) -> tuple[int, int]:
        """Players and waiting users on every canvas this node mirrors (`/metrics`)."""
        rosters = [roster for _, _, roster in self._rosters.values()]
        return sum(len(r.players) for r in rosters), sum(len(r.queue) for r in rosters)

    def counts(self, canvas: str) -> tuple[int, int]:
        """Players and waiting users on a canvas."""
        roster = self._roster(canvas)
        return len(roster.players), len(roster.queue)

    def seat(self, canvas: str, seat: Seat) -> None:
        self._seats.setdefault(canvas, set()).add(seat)

    def unseat(self, canvas: str, seat: Seat) -> None:
        seats = self._seats.get(canvas)
        if seats is not None:
            seats.discard(seat)
            if not seats:
                del self._seats[canvas]

    def wake(self) -> None:
        """Look at the clock again (after a test moved it)."""
        self._wake.set()

    # -- the mirror ----------------------------------------------------------------------------

    def _roster(self, canvas: str) -> Roster:
        mirrored = self._rosters.get(canvas)
        return mirrored[2] if mirrored is not None else Roster()

    def _install(self, canvas: str, revision: int, data: bytes) -> None:
        mirrored = self._rosters.get(canvas)
        if mirrored is not None and mirrored[0] >= revision:
            return
        roster = _decode(data)
        self._rosters[canvas] = (revision, data, roster)
        self._wake.set()
        seats = self._seats.get(canvas)
        if seats:
            standings = roster.standings(self.clock(), self.window_ms)
            for seat in tuple(seats):
                seat.standing_changed(standings.of(seat.user))

    async def _follow(self, watcher: KeyValue.KeyWatcher) -> None:
        async for entry in watcher:
            if entry is None or stop_requested():
                continue
            canvas = entry.key.removeprefix("roster.")
            if entry.operation in (KV_DEL, KV_PURGE):
                self._rosters.pop(canvas, None)
            elif entry.value and entry.revision is not None:
                self._install(canvas, entry.revision, entry.value)

    # -- changing the roster --------------------------------------------------------------------

    async def _commit_loop(self) -> None:
        while not stop_requested():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._flush_ms / 1000):
                    await self._commit_now.wait()
            self._commit_now.clear()
            for canvas in list(self._pending):
                await self._commit(canvas, self._pending.pop(canvas))

    async def _commit(self, canvas: str, pending: _Pending) -> bool:
        committed = True
        try:
            for _attempt in range(20):
                revision, data = self._stored(canvas)
                roster = _decode(data) if data else Roster()
                now = self.clock()
                roster.touch(pending.seen | self._waiting_here(canvas, roster, now))
                roster.join_all(pending.joins, now, cap=self.cap, window_ms=self.window_ms)
                changed = _encode(roster)
                if changed == data:
                    break
                try:
                    revision = await self._kv.update(f"roster.{canvas}", changed, last=revision)
                except KeyWrongLastSequenceError:
                    await self._refresh(canvas)
                    continue
                self._install(canvas, revision, changed)
                break
            else:
                log.warning("presence: gave up committing to canvas %s after 20 conflicts", canvas)
        except Exception:
            log.exception("presence: committing to canvas %s failed", canvas)
            committed = False  # the joiners are told the roster is unreachable
        for joined in pending.joins.values():
            if not joined.done():
                joined.set_result(committed)
        return committed

    def _stored(self, canvas: str) -> tuple[int, bytes]:
        mirrored = self._rosters.get(canvas)
        return (mirrored[0], mirrored[1]) if mirrored is not None else (0, b"")

    async def _refresh(self, canvas: str) -> None:
        try:
            entry = await self._kv.get(f"roster.{canvas}")
        except NotFoundError:
            self._rosters.pop(canvas, None)
            return
        if entry.value and entry.revision is not None:
            self._install(canvas, entry.revision, entry.value)

    def _waiting_here(self, canvas: str, roster: Roster, now: int) -> dict[str, int]:
        """Waiting users seated on this node are alive: their places are kept."""
        seated = {seat.user for seat in self._seats.get(canvas, ())}
        return {waiting.user: now for waiting in roster.queue if waiting.user in seated}

    # -- the one scheduled job ----------------------------------------------------------------

    async def _schedule(self) -> None:
        """Sleep until the earliest expiry of any roster (or a change), then sweep what is due;
        every third of a window, also vouch for the waiting users seated here."""
        while not stop_requested():
            now = self.clock()
            heartbeat = self._heartbeat_at + self.window_ms // 3
            due = min(
                (expiry for _, _, roster in self._rosters.values()
                 if (expiry := roster.next_expiry(self.window_ms)) is not None),
                default=heartbeat,
            )
            due = min(due, heartbeat)
            if due > now:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout((due - now) / 1000):
                        await self._wake.wait()
                self._wake.clear()
                continue
            now = self.clock()
            if now >= heartbeat:
                self._heartbeat_at = now
                for canvas in self._seats:
                    self._pending.setdefault(canvas, _Pending())
            for canvas, (_, _, roster) in list(self._rosters.items()):
                expiry = roster.next_expiry(self.window_ms)
                if expiry is not None and expiry <= now:
                    self._pending.setdefault(canvas, _Pending())
            results = [
                await self._commit(canvas, self._pending.pop(canvas)) for canvas in list(self._pending)
            ]
            if not all(results):  # NATS is away: do not spin on what is due
                await asyncio.sleep(1.0)
