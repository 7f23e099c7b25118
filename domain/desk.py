"""A sticker desk: a board of stickers anyone with the link edits, live or offline.

Every sticker field is a last-writer-wins register (domain/lww.py). The aggregate decides
whether an op is acceptable (limits, clock skew, the author's sequence) and gives each
accepted op the next gapless `desk_seq`; the merge itself never refuses.
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import lww
from domain.lww import Stamp

MAX_TEXT_BYTES = 10 * 1024
MAX_STICKERS = 10_000
MAX_SKEW_MS = 60_000
OFFLINE_REPORT_MS = 30_000
"""An op this much older than the server's clock was replayed after being offline."""
ACK_WINDOW = 256
"""Answers remembered per client for resends; older resends get a bare acknowledgement."""
ALWAYS_REPORTED = frozenset({"text", "colour", "deleted"})
MAX_COORDINATE = 1_000_000.0
MAX_SIDE = 100_000.0
MAX_ID = 64
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_FRACTIONAL_INDEX = re.compile(r"^[0-9A-Za-z]{1,64}$")


class DeskError(Exception):
    """Base of every refusal a desk gives; `code` names it on the wire."""

    code = "desk_error"


class InvalidDesk(DeskError):
    code = "invalid_desk"


class DeskExpired(DeskError):
    code = "desk_expired"


class UnknownField(DeskError):
    code = "unknown_field"


class InvalidValue(DeskError):
    code = "invalid_value"


class TextTooLong(DeskError):
    code = "text_too_long"


class TooManyStickers(DeskError):
    code = "too_many_stickers"


class UnknownSticker(DeskError):
    code = "unknown_sticker"


class InvalidStamp(DeskError):
    code = "invalid_stamp"


class NotCreator(DeskError):
    code = "not_creator"


class ClockSkew(DeskError):
    code = "clock_skew"

    def __init__(self, server_ms: int) -> None:
        super().__init__(f"stamp is more than {MAX_SKEW_MS} ms ahead of the server ({server_ms})")
        self.server_ms = server_ms


class SequenceGap(DeskError):
    code = "seq_gap"

    def __init__(self, expected: int) -> None:
        super().__init__(f"resend from client_seq {expected}")
        self.expected = expected


class Collision(NamedTuple):
    """The author's change of `field` lost to a value they never saw."""

    sticker: str
    field: str
    lost: Any
    winner: Any
    winner_stamp: Stamp


class Ack(NamedTuple):
    """The answer to an op. A resend gets `replayed=True` and the first answer's figures
    (without collisions: those went to the author the first time)."""

    client_seq: int
    desk_seq: int
    applied: list[str]
    superseded: list[str]
    collisions: tuple[Collision, ...] = ()
    replayed: bool = False


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def validate_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidDesk("a desk name has 1 to 200 characters")
    return name


def validate_changes(changes: Mapping[str, Any]) -> None:
    for field, value in changes.items():
        match field:
            case "x" | "y":
                _check_number(field, value, -MAX_COORDINATE, MAX_COORDINATE)
            case "w" | "h":
                _check_number(field, value, 1.0, MAX_SIDE)
            case "z":
                if not isinstance(value, str) or not _FRACTIONAL_INDEX.match(value):
                    raise InvalidValue("z is a fractional index: 1 to 64 of [0-9A-Za-z]")
            case "colour":
                if not isinstance(value, str) or not _HEX_COLOUR.match(value):
                    raise InvalidValue("colour is #rrggbb")
            case "text":
                if not isinstance(value, str):
                    raise InvalidValue("text is a string")
                if len(value) > MAX_TEXT_BYTES // 4 and len(value.encode()) > MAX_TEXT_BYTES:
                    raise TextTooLong(f"text is at most {MAX_TEXT_BYTES} bytes of UTF-8")
            case "deleted":
                if not isinstance(value, bool):
                    raise InvalidValue("deleted is true or false")
            case _:
                raise UnknownField(f"unknown sticker field {field!r}")


def _check_number(field: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValue(f"{field} is a number")
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidValue(f"{field} is between {low:g} and {high:g}")


def validate_stamp(raw: Sequence[Any], client_id: str) -> Stamp:
    if len(raw) != 3:
        raise InvalidStamp("a stamp is [wall_ms, counter, client_id]")
    wall_ms, counter, author = raw
    if isinstance(wall_ms, bool) or not isinstance(wall_ms, int) or wall_ms < 0:
        raise InvalidStamp("wall_ms is a non-negative integer")
    if isinstance(counter, bool) or not isinstance(counter, int) or not 0 <= counter < 1 << 31:
        raise InvalidStamp("counter is a non-negative integer")
    if author != client_id:
        raise InvalidStamp("a stamp carries its author's client_id")
    return (wall_ms, counter, author)


class Desk(Aggregate):
    """One desk. `desk_seq` counts accepted ops; the aggregate version also counts the rest."""

    class Created(Aggregate.Created):
        name: str
        creator_token_hash: str
        ttl_ms: int
        created_ms: int

    def __init__(self, name: str, creator_token_hash: str, ttl_ms: int, created_ms: int) -> None:
        self.name = name
        self.creator_token_hash = creator_token_hash
        self.ttl_ms = ttl_ms
        self.stickers: lww.Board = {}
        self.desk_seq = 0
        self.epoch = 1
        self.is_open = True
        self.last_edit_ms = created_ms
        # client id -> [last client_seq, answers to the last ACK_WINDOW ops as
        # (desk_seq, applied fields, superseded fields)]: tuples of plain values, which the
        # garbage collector stops tracking (see `domain.lww`); a snapshot decodes lists
        self.clients: dict[str, list[Any]] = {}

    @classmethod
    def create(
        cls, *, desk_id: UUID, name: str, creator_token_hash: str, ttl_ms: int, now: datetime
    ) -> Desk:
        if ttl_ms <= 0:
            raise InvalidDesk("ttl_ms must be positive")
        return cls._create(
            cls.Created,
            id=desk_id,
            timestamp=now,
            name=validate_name(name),
            creator_token_hash=creator_token_hash,
            ttl_ms=ttl_ms,
            created_ms=epoch_ms(now),
        )

    # -- queries ------------------------------------------------------------------------------

    def expires_at_ms(self) -> int:
        return self.last_edit_ms + self.ttl_ms

    def is_expired(self, now: datetime) -> bool:
        return self._is_expired_at(epoch_ms(now))

    def _is_expired_at(self, now_ms: int) -> bool:
        return not self.is_open or now_ms >= self.expires_at_ms()

    def sticker(self, sticker_id: str) -> dict[str, Any]:
        return lww.values(self.stickers[sticker_id])

    # -- decisions ----------------------------------------------------------------------------

    def apply_op(
        self,
        *,
        client_id: str,
        client_seq: int,
        sticker_id: str,
        create: bool,
        changes: Mapping[str, Any],
        stamp: Sequence[Any],
        seen: Mapping[str, Sequence[Any]] | None = None,
        now: datetime,
    ) -> Ack:
        """Accept one op of `client_id`, or raise why not (nothing then changes).

        A refused op does not use up its `client_seq`: the author fixes or drops it and
        sends its next op under the same number.
        """
        replayed = self._replayed(client_id, client_seq)
        if replayed is not None:
            return replayed
        now_ms = epoch_ms(now)
        if self._is_expired_at(now_ms):
            raise DeskExpired("the desk has expired")
        if not 1 <= len(client_id) <= MAX_ID or not 1 <= len(sticker_id) <= MAX_ID:
            raise InvalidValue(f"client_id and sticker id have 1 to {MAX_ID} characters")
        expected = self.clients[client_id][0] + 1 if client_id in self.clients else 1
        if client_seq != expected:
            raise SequenceGap(expected)
        at = validate_stamp(stamp, client_id)
        if at[0] > now_ms + MAX_SKEW_MS:
            raise ClockSkew(now_ms)
        if not changes and not create:
            raise InvalidValue("an edit changes at least one field")
        validate_changes(changes)
        registers = self.stickers.get(sticker_id)
        if registers is None:
            if not create:
                raise UnknownSticker(f"no sticker {sticker_id!r} on this desk")
            if len(self.stickers) >= MAX_STICKERS:
                raise TooManyStickers(f"a desk holds at most {MAX_STICKERS} stickers")
        full = {**lww.DEFAULTS, **changes} if create else dict(changes)
        collisions = self._collisions(sticker_id, registers, full, at, seen or {}, now_ms)
        self.trigger_event(
            self.StickerCreated if create else self.StickerEdited,
            timestamp=now,
            desk_seq=self.desk_seq + 1,
            client_id=client_id,
            client_seq=client_seq,
            sticker_id=sticker_id,
            changes=full,
            stamp=list(at),
        )
        _, applied, superseded = self.clients[client_id][1][-1]  # what the merge did, as kept
        return Ack(client_seq, self.desk_seq, list(applied), list(superseded), tuple(collisions))

    def finish_session(self, *, creator_token_hash: str, now: datetime) -> int:
        """The creator ends the collaboration session: the epoch moves on. Returns it."""
        if not hmac.compare_digest(creator_token_hash, self.creator_token_hash):
            raise NotCreator("only the desk's creator may finish its session")
        self.trigger_event(self.SessionFinished, timestamp=now)
        return self.epoch

    def end_idle_session(self, *, now: datetime) -> int:
        """Nobody was connected for a while: the session ends as if its creator finished it."""
        self.trigger_event(self.SessionFinished, timestamp=now)
        return self.epoch

    def close(self, *, now: datetime) -> None:
        """Expiry: no more ops. Idempotent."""
        if self.is_open:
            self.trigger_event(self.Closed, timestamp=now)

    def _replayed(self, client_id: str, client_seq: int) -> Ack | None:
        known = self.clients.get(client_id)
        if known is None or client_seq > known[0]:
            return None
        last_seq, answers = known
        index = client_seq - (last_seq - len(answers) + 1)
        if index < 0:  # older than the window: acknowledged long ago
            return Ack(client_seq, 0, [], [], replayed=True)
        desk_seq, applied, superseded = answers[index]
        return Ack(client_seq, desk_seq, list(applied), list(superseded), replayed=True)

    def _collisions(
        self,
        sticker_id: str,
        registers: lww.Registers | None,
        changes: Mapping[str, Any],
        stamp: Stamp,
        seen: Mapping[str, Sequence[Any]],
        now_ms: int,
    ) -> list[Collision]:
        if registers is None:
            return []
        was_offline = now_ms - stamp[0] >= OFFLINE_REPORT_MS
        found: list[Collision] = []
        for field, value in changes.items():
            held = registers.get(field)
            if held is None:
                continue
            winner_stamp = lww.as_stamp(held[1])
            if winner_stamp <= stamp or held[0] == value:
                continue
            saw = seen.get(field)
            if saw is not None and len(saw) == 3 and lww.as_stamp(saw) == winner_stamp:
                continue
            if field in ALWAYS_REPORTED or was_offline:
                found.append(Collision(sticker_id, field, value, held[0], winner_stamp))
        return found

    def collect_events(self) -> Any:
        # as Canvas: hand the whole pending list over at once (the writer collects many)
        collected, self._pending_events = self._pending_events, []
        return collected

    # -- events -------------------------------------------------------------------------------

    class StickerChanged(Aggregate.Event):
        holds_no_uuid = True
        """Its changes and stamp are JSON values from the wire (`commands.codec`)."""

        desk_seq: int
        client_id: str
        client_seq: int
        sticker_id: str
        changes: dict[str, Any]
        stamp: list[Any]

        def apply(self, desk: Desk) -> None:
            result = lww.merge(
                desk.stickers, self.sticker_id, self.changes, lww.as_stamp(self.stamp)
            )
            desk.desk_seq = self.desk_seq
            desk.last_edit_ms = epoch_ms(self.timestamp)
            known = desk.clients.get(self.client_id)
            if known is None:
                known = desk.clients[self.client_id] = [0, []]
            answers: list[Any] = known[1]
            answers.append((self.desk_seq, tuple(result.applied), tuple(result.superseded)))
            if len(answers) > ACK_WINDOW:
                del answers[0]
            known[0] = self.client_seq

    class StickerCreated(StickerChanged):
        pass

    class StickerEdited(StickerChanged):
        pass

    class SessionFinished(Aggregate.Event):
        def apply(self, desk: Desk) -> None:
            desk.epoch += 1

    class Closed(Aggregate.Event):
        def apply(self, desk: Desk) -> None:
            desk.is_open = False
