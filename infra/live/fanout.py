"""Live fan-out on one node: one core NATS subscription per key (a canvas, a desk), copied to
every local connection, and a NATS subscription only while the key has listeners here.

Sending costs per socket and per frame (a system call each), not per pixel. So a key may be
given a least time between two broadcasts, `interval_s`, which also grows with the audience: a
broadcast that took `d` seconds of CPU is followed by the next one no sooner than
`d / busy_share` after it started, so that one key's broadcasts take at most that share of the
event loop.
Messages that arrive sooner wait, and may be merged (`merge`: the canvas merges deltas); the first
one after a quiet spell goes out at once. A broadcast is encoded once (a WebSocket binary frame)
and the same bytes go to every connection.

A connection with a `Sink` (its socket's transport) is written to on the spot while it keeps up.
Otherwise its frames wait in its queue; when that holds `capacity` frames the connection is told
to resync and is dropped: a slow client never slows the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from nats.aio.client import Client as NATS

from infra.live.socket import binary_frame

Frame = tuple[bytes, bytes]
"""A message (a canvas delta …), and the same message encoded for a `Sink`."""
Admit = Callable[[Any], "bool | None"]


class Sink(Protocol):
    """A socket that takes encoded frames synchronously (`infra.live.socket`)."""

    def frames_ready(self) -> bool:
        """Open, and its transport's buffer has room."""

    def frames_open(self) -> bool: ...

    def write_frames(self, frames: bytes) -> None: ...

    async def frames_drained(self) -> None:
        """Returns once the buffer has room again, or the socket is gone."""


class Listener:
    """One connection's view of a canvas's live frames."""

    __slots__ = ("_admit", "_capacity", "_frames", "_sink", "_waiter", "dropped")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._frames: list[Frame] = []
        self._sink: Sink | None = None
        self._admit: Admit | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.dropped = False

    def attach(self, sink: Sink | None, admit: Admit | None = None) -> None:
        """From now on, frames go straight to `sink` whenever nothing is queued before them
        (None: every frame queues, for the connection's own task to take). `admit` judges a
        frame on the way by what the fan-out's `describe` said of it: True sends it, False skips
        it, None queues it (for what only the connection's task can do, like closing)."""
        self._sink = sink
        self._admit = admit

    def offer(self, message: bytes, wire: bytes, about: Any = None) -> bool:
        """Send `wire` or queue both forms of the message; True when this very one found the
        queue full (the drop)."""
        if self.dropped:
            return False
        sink = self._sink
        if sink is not None and not self._frames:
            verdict = True if self._admit is None else self._admit(about)
            if verdict is False:
                return False
            if verdict and sink.frames_ready():
                sink.write_frames(wire)
                return False
        if len(self._frames) >= self._capacity:
            self.dropped = True
            self._frames.clear()
            self._wake()
            return True
        self._frames.append((message, wire))
        self._wake()
        return False

    async def wait(self) -> None:
        """Returns when frames are queued, or the listener was dropped."""
        while not self._frames and not self.dropped:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def take(self) -> list[Frame]:
        """Every queued frame, oldest first (none once dropped)."""
        frames, self._frames = self._frames, []
        return frames

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class _Channel:
    """One key on this node: its listeners, and the messages waiting for the next broadcast."""

    def __init__(self) -> None:
        self.listeners: set[Listener] = set()
        self.subscription: Any = None
        self.pending: list[bytes] = []
        self.next_broadcast = -math.inf
        self.timer: asyncio.TimerHandle | None = None


class LiveFrames:
    """Frames broadcast to live sockets, and slow listeners dropped, per context in this process
    (`/metrics`): counted once a broadcast, not once a listener."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()


LIVE_FRAMES = LiveFrames()


class Fanout:
    def __init__(
        self,
        nc: NATS,
        subject: Callable[[str], str],
        *,
        context: str = "live",
        capacity: int = 256,
        interval_s: float = 0.0,
        busy_share: float = 1.0,
        merge: Callable[[list[bytes]], list[bytes]] | None = None,
        encode: Callable[[bytes], bytes] = binary_frame,
        describe: Callable[[bytes], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        """`context`: whose frames these are in `/metrics`;
        `interval_s` and `busy_share`: see above (by default, every message at once);
        `merge`: what becomes of messages that waited for a broadcast (by default they go one by
        one); `encode`: a message as its connections' sinks take it; `describe`: what a
        listener's `admit` is given, worked out once a message."""
        self._nc = nc
        self._subject = subject
        self._capacity = capacity
        self._context = context
        self._interval_s = interval_s
        self._busy_share = busy_share
        self._merge = merge
        self._encode = encode
        self._describe = describe
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._channels: dict[str, _Channel] = {}
        self.slow_dropped = 0
        self.broadcasts = 0

    async def listen(self, key: str) -> Listener:
        listener = Listener(self._capacity)
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = _Channel()
            channel.listeners.add(listener)
            subscription = await self._nc.subscribe(self._subject(key), cb=self._deliver_to(key))
            if self._channels.get(key) is channel:
                channel.subscription = subscription
            else:  # everyone left while it was being set up
                await subscription.unsubscribe()
        else:
            channel.listeners.add(listener)
        return listener

    async def leave(self, key: str, listener: Listener) -> None:
        channel = self._channels.get(key)
        if channel is None:
            return
        channel.listeners.discard(listener)
        if not channel.listeners:
            del self._channels[key]
            if channel.timer is not None:
                channel.timer.cancel()
            if channel.subscription is not None:
                with contextlib.suppress(Exception):
                    await channel.subscription.unsubscribe()

    def _deliver_to(self, key: str) -> Callable[[Any], Any]:
        async def deliver(message: Any) -> None:
            self.add(key, message.data)

        return deliver

    def add(self, key: str, message: bytes) -> None:
        """A message for the key's listeners: broadcast now, or with the next broadcast."""
        channel = self._channels.get(key)
        if channel is None:
            return
        channel.pending.append(message)
        wait = channel.next_broadcast - self._clock()
        if wait <= 0:
            self._broadcast(channel)
        elif channel.timer is None:
            channel.timer = asyncio.get_running_loop().call_later(wait, self._broadcast, channel)

    def _broadcast(self, channel: _Channel) -> None:
        if channel.timer is not None:
            channel.timer.cancel()
            channel.timer = None
        messages, channel.pending = channel.pending, []
        started = self._clock()
        paced = self._busy_share < 1.0  # the thread's CPU clock is a system call: only if used
        cpu_started = self._cpu_clock() if paced else 0.0
        if self._merge is not None and len(messages) > 1:
            messages = self._merge(messages)
        offered = dropped = 0
        for message in messages:
            wire = self._encode(message)
            about = None if self._describe is None else self._describe(message)
            self.broadcasts += 1
            for listener in tuple(channel.listeners):
                if listener.dropped:  # until its connection leaves
                    continue
                offered += 1
                if listener.offer(message, wire, about):
                    dropped += 1
        self.slow_dropped += dropped
        LIVE_FRAMES.sent[self._context] += offered - dropped
        LIVE_FRAMES.dropped[self._context] += dropped
        # CPU time, not wall time: waiting for the GIL or a core is not what the share limits.
        took = self._cpu_clock() - cpu_started if paced else 0.0
        channel.next_broadcast = started + max(self._interval_s, took / self._busy_share)
