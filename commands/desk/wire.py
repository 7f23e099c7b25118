"""The desk commands as they travel: msgspec structs that refuse unknown fields at decode time.

Shapes and coarse bounds only (and no control characters in text: `commands.text`); the `Desk` aggregate decides the rest (UTF-8 size of a text,
the sticker limit, clock skew, sequences).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from commands.text import Line, Lines
from domain.desk import MAX_ID, MAX_TEXT_BYTES

Id = Annotated[Line, msgspec.Meta(min_length=1, max_length=MAX_ID)]
Number = Annotated[float, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
Stamp = tuple[
    Annotated[int, msgspec.Meta(ge=0)], Annotated[int, msgspec.Meta(ge=0, lt=1 << 31)], Id
]


class InitDesk(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
    create_new: bool = False
    """True: always a new desk (the name then finds it for its creator); false: the live desk
    of that name that this browser or account created or opened before, else not found (never
    made: the page asks before creating one)."""


class StickerFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    x: Number | UnsetType = UNSET
    y: Number | UnsetType = UNSET
    w: Number | UnsetType = UNSET
    h: Number | UnsetType = UNSET
    z: Annotated[Line, msgspec.Meta(min_length=1, max_length=64)] | UnsetType = UNSET
    colour: Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")] | UnsetType = UNSET
    text: Annotated[Lines, msgspec.Meta(max_length=MAX_TEXT_BYTES)] | UnsetType = UNSET
    deleted: bool | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        """The fields the op sets (`omit_defaults` leaves out the unset ones)."""
        changes: dict[str, Any] = msgspec.to_builtins(self)
        return changes


class ApplyStickerOp(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One change of one sticker by one client: `fields` holds only what changed."""

    client_id: Id
    client_seq: Annotated[int, msgspec.Meta(ge=1)]
    sticker: Id
    stamp: Stamp
    fields: StickerFields
    create: bool = False
    seen: Annotated[dict[Line, Stamp], msgspec.Meta(max_length=8)] = {}
    """The stamps the author last saw of the fields it changes (collision detection)."""


class FinishSession(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    creator_token: Annotated[Line, msgspec.Meta(min_length=1, max_length=100)]


class CloseDesk(msgspec.Struct, forbid_unknown_fields=True):
    pass


class EndIdleSession(msgspec.Struct, forbid_unknown_fields=True):
    """Not on the wire: the lifecycle job ends a session nobody is connected to."""


DeskCommand = ApplyStickerOp | FinishSession | EndIdleSession | CloseDesk


class CollisionOut(msgspec.Struct):
    sticker: str
    field: str
    lost: Any
    winner: Any
    winner_stamp: tuple[int, int, str]


class AckOut(msgspec.Struct):
    client_seq: int
    desk_seq: int
    applied: list[str]
    superseded: list[str]
    replayed: bool
    collisions: list[CollisionOut]
