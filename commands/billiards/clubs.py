"""Club commands: the wire structs, and how the clubs' writer decides them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, NamedTuple
from uuid import UUID, uuid4

import msgspec

from commands.billiards.wire import Name
from commands.text import Line
from domain.billiards.club import Club

MATCH_MINUTES = 20.0
_encode = msgspec.json.Encoder().encode


class TableIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,20}$(?!\n)")]
    name: Name
    game: Annotated[Line, msgspec.Meta(max_length=20)]


class CreateClub(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    tables: Annotated[list[TableIn], msgspec.Meta(max_length=50)] = []
    confirm_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] | None = None


class AddTable(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    table: TableIn


class JoinQueue(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    game: Annotated[Line, msgspec.Meta(max_length=20)]


class LeaveQueue(msgspec.Struct, forbid_unknown_fields=True):
    pass


class ConfirmCall(msgspec.Struct, forbid_unknown_fields=True):
    pass


class ExpireCalls(msgspec.Struct):
    """Not on the wire: a call's deadline passed."""


class AssignMatch(msgspec.Struct):
    """Not on the wire: the match created for a table's confirmed players."""

    table_id: str
    match_id: UUID


class FreeTable(msgspec.Struct):
    """Not on the wire: the table's match ended."""

    table_id: str
    match_id: UUID


ClubCommand = AddTable | JoinQueue | LeaveQueue | ConfirmCall | ExpireCalls | AssignMatch | FreeTable


class ClubAct(NamedTuple):
    by: str
    command: ClubCommand


class ClubDecided(NamedTuple):
    version: int
    view: dict[str, Any]
    frame: bytes | None
    ready: tuple[str, list[dict[str, Any]]] | None
    """A table whose called players all confirmed, and they: a match is to be created."""
    next_deadline_ms: int | None


def club_frame(view: dict[str, Any]) -> bytes:
    return _encode({"type": "club", "version": view["version"], "club": view})


def decide_club(
    club: Club, act: ClubAct, now: datetime, match_minutes: float = MATCH_MINUTES
) -> ClubDecided:
    before = club.version
    ready = None
    by, command = act
    match command:
        case AddTable(table=table):
            club.add_table(by=by, table_id=table.id, name=table.name, game=table.game, now=now)
        case JoinQueue():
            club.join(account=by, name=command.name, game=command.game, entry_id=uuid4().hex,
                      now=now)
        case LeaveQueue():
            club.leave(account=by, now=now)
        case ConfirmCall():
            players = club.confirm(account=by, now=now)
            if players is not None:
                table_id = club.called_table(by)
                assert table_id is not None
                ready = (table_id, players)
        case ExpireCalls():
            club.expire(now)
        case AssignMatch():
            club.assign(table_id=command.table_id, match_id=command.match_id, now=now)
        case FreeTable():
            club.free(table_id=command.table_id, match_id=command.match_id, now=now)
    view = club.view(match_minutes)
    frame = club_frame(view) if club.version != before else None
    return ClubDecided(club.version, view, frame, ready, club.next_deadline_ms())
