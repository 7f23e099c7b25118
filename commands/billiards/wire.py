"""The billiards commands as they travel: msgspec structs that refuse unknown fields.

Shapes and coarse bounds only (and no control characters in text: `commands.text`); the
aggregates decide the rest (whose turn, balls remaining, template parameters).
"""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple
from uuid import UUID

import msgspec

from commands.text import Line
from domain.billiards.rules import FOUL_KINDS, MAX_PLAYERS, OBJECT_BALLS

Name = Annotated[Line, msgspec.Meta(min_length=1, max_length=64)]
Key = Annotated[Line, msgspec.Meta(min_length=1, max_length=64)]
Seat = Annotated[int, msgspec.Meta(ge=0, lt=MAX_PLAYERS)]
Ball = Annotated[int, msgspec.Meta(ge=1, le=OBJECT_BALLS)]
Foul = Annotated[str, msgspec.Meta(pattern="^(" + "|".join(FOUL_KINDS) + r")$(?!\n)")]


class CreateTemplate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    base: Annotated[Line, msgspec.Meta(max_length=20)]
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=80)]
    params: Annotated[dict[Line, Any], msgspec.Meta(max_length=20)] = {}


class EditTemplate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    params: Annotated[dict[Line, Any], msgspec.Meta(max_length=20)]
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=80)] | None = None


class PlayerIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    me: bool = False
    """This seat is the creator's own (bound to his account)."""


class CreateMatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    template_id: UUID
    template_version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    players: Annotated[list[PlayerIn], msgspec.Meta(min_length=1, max_length=MAX_PLAYERS)]
    order: Annotated[list[Seat], msgspec.Meta(max_length=MAX_PLAYERS)] | None = None
    """Seats in the order they shoot, the breaker first; by default as listed (Колхоз with a
    rotation by lot or at random: drawn by the server)."""
    table_id: Annotated[Line, msgspec.Meta(max_length=64)] | None = None


class JoinMatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    invite: Annotated[Line, msgspec.Meta(min_length=1, max_length=100)]
    name: Name
    seat: Seat | None = None
    """A guest's seat to take; none: a new seat (before the break)."""


class AddGuest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name


class SetOrder(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    order: Annotated[list[Seat], msgspec.Meta(min_length=2, max_length=MAX_PLAYERS)]


class TakeOver(msgspec.Struct, forbid_unknown_fields=True):
    pass


class RecordShot(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: Key
    shooter: Seat
    balls: Annotated[int, msgspec.Meta(ge=0, le=16)] = 0
    numbers: Annotated[list[Ball], msgspec.Meta(max_length=OBJECT_BALLS)] = []
    cue: bool = False
    fouls: Annotated[list[Foul], msgspec.Meta(max_length=len(FOUL_KINDS))] = []
    on_ball: Ball | None = None


class Undo(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: Key


class AgreeDraw(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: Key


class Resign(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: Key
    seat: Seat | None = None


class Stop(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: Key


MatchCommand = JoinMatch | AddGuest | SetOrder | TakeOver | RecordShot | Undo | AgreeDraw | Resign | Stop


class Act(NamedTuple):
    """A command and who gives it, as the match writer takes it."""

    by: str
    command: MatchCommand
