"""The matches the stats follow: each open match's game, seats and standing shots, and the last
`WINDOW` finished ones, so that undoing a finishing shot takes the result back. Pure.

A shot is kept as what the stats need of it: who shot, the balls it scored (none on a foul) and
whether it was a foul. A finished match older than the window is forgotten: an undo of it then
changes no stats (deterministically, so a rebuild agrees with the live values).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from commands.codec import msgpack_array_header
from domain.billiards.rules import AMERICAN, KOLKHOZ, MOSCOW
from projections.recorded import Recorded

WINDOW = 1000
"""Finished matches remembered, newest first, for an undo of their last shot."""

_M = "domain.billiards.match:BilliardsMatch."
TOPIC_CREATED = _M + "Created"
TOPIC_JOINED = _M + "PlayerJoined"
TOPIC_SHOT = _M + "ShotRecorded"
TOPIC_UNDONE = _M + "ShotUndone"
TOPIC_FINISHED = _M + "Finished"
TOPICS = (TOPIC_CREATED, TOPIC_JOINED, TOPIC_SHOT, TOPIC_UNDONE, TOPIC_FINISHED)


class Finish(msgspec.Struct):
    seq: int
    """The notification id of the `Finished` event: the order results count in."""
    at: datetime
    places: list[int]
    """Per seat, its place in the final standings (equal places: a draw between them)."""
    undo: dict[str, Any] = msgspec.field(default_factory=dict)
    """What counting the match changed that a subtraction cannot take back (set by the books)."""


class Followed(msgspec.Struct):
    kind: str
    seats: list[tuple[str | None, str]]
    """Per seat: (account or None for a guest, name)."""
    shots: list[tuple[int, int, bool]] = msgspec.field(default_factory=list)
    """(seat, balls scored, foul) per standing shot."""
    finish: Finish | None = None

    def accounts(self) -> list[tuple[int, str, str]]:
        """(seat, account, name) of the seats a player took, guests left out."""
        return [(seat, a, name) for seat, (a, name) in enumerate(self.seats) if a is not None]


class Counted(NamedTuple):
    match_id: UUID
    match: Followed


class Uncounted(NamedTuple):
    match_id: UUID
    match: Followed
    finish: Finish


Outcome = Counted | Uncounted

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Followed).decode


# What the ledger reads of each event's stored state (`commands.codec`): typed decoders skip
# the rest, which is most of the time of a rebuild's shots.
class _Seat(msgspec.Struct):
    name: str
    account: str | None = None


class _Game(msgspec.Struct):
    game: str


class _Created(msgspec.Struct):
    rules: _Game
    players: list[_Seat]


class _Joined(msgspec.Struct):
    seat: int | None
    account: str | None
    name: str


class _Shot(msgspec.Struct):
    shooter: int
    balls: int
    cue: bool = False
    fouls: list[str] = []


class _ShotRecorded(msgspec.Struct):
    shot: _Shot


class _Entry(msgspec.Struct):
    seat: int
    place: int


class _Finished(msgspec.Struct):
    timestamp: datetime
    standings: list[_Entry]


def _decoder(kind: type[Any]) -> Any:
    return msgspec.msgpack.Decoder(kind).decode


_created, _joined = _decoder(_Created), _decoder(_Joined)
_shot, _finished = _decoder(_ShotRecorded), _decoder(_Finished)
_shots = _decoder(list[_ShotRecorded])


def scored(kind: str, shot: _Shot) -> tuple[int, bool]:
    """The balls a shot scored and whether it was a foul (then it scores none: they are
    re-spotted). The cue ball counts as a ball in Американка and (свояк) in Московская."""
    if shot.fouls or (shot.cue and kind == KOLKHOZ):
        return 0, True
    return shot.balls + (1 if shot.cue and kind in (AMERICAN, MOSCOW) else 0), False


class Ledger:
    def __init__(self) -> None:
        self.matches: dict[UUID, Followed] = {}
        self.finished: OrderedDict[UUID, None] = OrderedDict()
        self.touched: set[UUID] = set()
        self.forgotten: set[UUID] = set()

    def apply(self, event: Recorded) -> Outcome | None:
        topic = event.topic
        match_id = event.originator_id
        if topic == TOPIC_SHOT:  # nine events in ten: the shortest way
            match = self.matches.get(match_id)
            if match is not None:
                self.touched.add(match_id)
                shot = _shot(event.state).shot
                match.shots.append((shot.shooter, *scored(match.kind, shot)))
            return None
        if topic == TOPIC_CREATED:
            created = _created(event.state)
            seats = [(p.account, p.name) for p in created.players]
            self.matches[match_id] = Followed(created.rules.game, seats)
            self.touched.add(match_id)
            return None
        match = self.matches.get(match_id)
        if match is None or topic not in TOPICS:
            return None  # not followed (finished before the window), or not an event the stats read
        self.touched.add(match_id)
        if topic == TOPIC_JOINED:
            joined = _joined(event.state)
            if joined.seat is None:
                match.seats.append((joined.account, joined.name))
            else:
                match.seats[joined.seat] = (joined.account, joined.name)
        elif topic == TOPIC_UNDONE:
            if match.shots:
                match.shots.pop()
            finish, match.finish = match.finish, None
            if finish is not None:
                self.finished.pop(match_id, None)
                return Uncounted(match_id, match, finish)
        elif topic == TOPIC_FINISHED:
            finished = _finished(event.state)
            places = [0] * len(match.seats)
            for entry in finished.standings:
                places[entry.seat] = entry.place
            match.finish = Finish(event.notification_id, finished.timestamp, places)
            self.finished[match_id] = None
            while len(self.finished) > WINDOW:
                old, _ = self.finished.popitem(last=False)
                del self.matches[old]
                self.touched.discard(old)
                self.forgotten.add(old)
            return Counted(match_id, match)
        return None

    def apply_shots(self, match_id: UUID, states: bytes, count: int) -> None:
        """`apply` of a run of `count` shots in one match, their states one after the other
        (a page read as columns): one decoding for them all."""
        match = self.matches.get(match_id)
        if match is None:
            return
        self.touched.add(match_id)
        kind = match.kind
        match.shots.extend(
            (recorded.shot.shooter, *scored(kind, recorded.shot))
            for recorded in _shots(msgpack_array_header(count) + states)
        )

    def collect(self) -> tuple[list[tuple[UUID, int | None, bytes]], list[UUID]]:
        """Rows to keep (match, finishing position or None while open, state) and matches to
        forget, since the last collect."""
        rows = []
        for match_id in self.touched:
            match = self.matches[match_id]
            rows.append((match_id, None if match.finish is None else match.finish.seq,
                         _encode(match)))
        forgotten = list(self.forgotten)
        self.touched, self.forgotten = set(), set()
        return rows, forgotten

    def restore(self, rows: list[tuple[UUID, int | None, bytes]]) -> None:
        """From the kept rows: open matches, then finished ones in their finishing order."""
        for match_id, _, state in sorted(rows, key=lambda r: (r[1] is not None, r[1] or 0)):
            match = _decode(state)
            self.matches[match_id] = match
            if match.finish is not None:
                self.finished[match_id] = None
