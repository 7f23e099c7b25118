"""Who may place on a canvas: the players (a game action within the AFK window) and the FIFO
queue of those waiting for a place. Pure: times arrive as arguments, in milliseconds.

A roster is volatile state, not an event-sourced aggregate: nodes share it through a NATS KV
entry and change it by compare-and-set, so every change here is a plain function of the roster
and the time."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import msgspec


def window_start(acted_ms: int, ready_at_ms: int) -> int:
    """When a player's AFK window starts after a game action: once they may place again, the
    later of the action and the end of its cooldown. Waiting out a cooldown is not being away
    (with a cooldown as long as the window, every player would go AFK between placements)."""
    return max(acted_ms, ready_at_ms)


class PlayerState(StrEnum):
    PLAYING = "playing"
    QUEUED = "queued"
    AFK = "afk"


class Waiting(msgspec.Struct, array_like=True):
    user: str
    seen_ms: int
    """The last sign of life: joining, or its node saying it is still connected."""


class Standing(msgspec.Struct, frozen=True):
    """Where one user stands, as the live socket tells them."""

    state: PlayerState
    position: int | None
    """1-based place in the queue, when queued."""
    players: int
    queue_length: int


class Roster(msgspec.Struct, kw_only=True):
    players: dict[str, int] = msgspec.field(default_factory=dict)
    """User → when their AFK window started: their last game action (admission counts as one)
    or, when later, the end of its cooldown (`window_start`)."""
    queue: list[Waiting] = msgspec.field(default_factory=list)

    def join(self, user: str, now_ms: int, *, cap: int, window_ms: int) -> None:
        """A signed-in user asks to play: they keep playing if they still are (a reload, a lost
        connection), keep their place if they wait, else play at once or join the queue's end."""
        self.join_all((user,), now_ms, cap=cap, window_ms=window_ms)

    def join_all(self, users: Iterable[str], now_ms: int, *, cap: int, window_ms: int) -> None:
        """`join` for many users at once, in their order: one sweep and one look at the queue
        for all of them (a node commits the joins of a whole flush together)."""
        self.sweep(now_ms, cap=cap, window_ms=window_ms)
        queued = {waiting.user: waiting for waiting in self.queue}
        for user in users:
            if user in self.players:
                continue
            waiting = queued.get(user)
            if waiting is not None:
                waiting.seen_ms = max(waiting.seen_ms, now_ms)
            elif len(self.players) < cap and not self.queue:
                self.players[user] = now_ms
            else:
                queued[user] = Waiting(user, now_ms)
                self.queue.append(queued[user])

    def touch(self, seen: dict[str, int]) -> None:
        """Record game actions of players and signs of life of waiting users. A player who
        went AFK meanwhile stays AFK: touching never jumps the queue."""
        for user, at in seen.items():
            if user in self.players:
                self.players[user] = max(self.players[user], at)
        for waiting in self.queue:
            if waiting.user in seen:
                waiting.seen_ms = max(waiting.seen_ms, seen[waiting.user])

    def sweep(self, now_ms: int, *, cap: int, window_ms: int) -> list[str]:
        """Players with no action within the window go AFK, waiting users not seen within it
        leave the queue, and the queue's head is admitted while there is room: returns who."""
        cutoff = now_ms - window_ms
        # Most sweeps find nobody to drop: `min` looks at every entry without a Python loop.
        if self.players and min(self.players.values()) <= cutoff:
            self.players = {user: at for user, at in self.players.items() if at > cutoff}
        if self.queue and min(waiting.seen_ms for waiting in self.queue) <= cutoff:
            self.queue = [waiting for waiting in self.queue if waiting.seen_ms > cutoff]
        admitted = []
        while self.queue and len(self.players) < cap:
            user = self.queue.pop(0).user
            self.players[user] = now_ms
            admitted.append(user)
        return admitted

    def next_expiry(self, window_ms: int) -> int | None:
        """When the next player goes AFK or the next waiting user lapses."""
        times = list(self.players.values())
        times.extend(waiting.seen_ms for waiting in self.queue)
        return min(times) + window_ms if times else None

    def standings(self, now_ms: int, window_ms: int) -> Standings:
        return Standings(self, now_ms - window_ms)


class Standings:
    """Every user's standing in one roster, computed once (a queue may be long)."""

    def __init__(self, roster: Roster, cutoff_ms: int) -> None:
        self._roster = roster
        self._cutoff = cutoff_ms
        self._positions = {entry.user: n for n, entry in enumerate(roster.queue, start=1)}

    def of(self, user: str) -> Standing:
        players, waiting = len(self._roster.players), len(self._roster.queue)
        if self._roster.players.get(user, self._cutoff) > self._cutoff:
            return Standing(PlayerState.PLAYING, None, players, waiting)
        position = self._positions.get(user)
        if position is not None:
            return Standing(PlayerState.QUEUED, position, players, waiting)
        return Standing(PlayerState.AFK, None, players, waiting)
