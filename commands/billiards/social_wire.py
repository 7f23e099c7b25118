"""Friends, groups, profiles and notification settings as they travel (msgspec structs that
refuse unknown fields); the aggregates (`domain.billiards.player`, `group`) decide the rest."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from commands.billiards.wire import Name
from commands.text import Line

Account = Annotated[Line, msgspec.Meta(min_length=1, max_length=100)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{4,64}$(?!\n)")]
Username = Annotated[str, msgspec.Meta(pattern=r"^@?[A-Za-z0-9_]{4,32}$(?!\n)")]
Game = Annotated[Line, msgspec.Meta(max_length=20)]


class SetProfile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    init_data: Annotated[Line, msgspec.Meta(max_length=4096)] | None = None
    """Telegram's signed `initData`: records the Telegram user id and username."""


class SetPreferences(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    language: Annotated[Line, msgspec.Meta(max_length=8)]
    notices: Annotated[list[Annotated[Line, msgspec.Meta(max_length=32)]], msgspec.Meta(
        max_length=10)]


class FindPlayer(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Exactly one of: an account id, a share link's code, a Telegram username."""

    account: Account | None = None
    code: Code | None = None
    username: Username | None = None


class Invite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A match (`match_id` and its `invite` secret) or a club's queue (`club_id`, `game`)."""

    friend: Account
    match_id: UUID | None = None
    invite: Annotated[Line, msgspec.Meta(max_length=64)] | None = None
    club_id: UUID | None = None
    game: Game | None = None


class CreateGroup(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=60)]
    open: bool = True


class ChangeGroup(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=60)] | None = None
    open: bool | None = None


class JoinGroup(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    invite: Annotated[Line, msgspec.Meta(max_length=64)] | None = None


class SetRole(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    role: Annotated[Line, msgspec.Meta(max_length=10)]
