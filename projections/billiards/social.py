"""The friends and groups read models: a row per player (profile), per pair of players (friend,
request either way, block) and per group, member and join request. Pure: events in, changes out,
each naming the row it touches."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from commands.codec import MsgspecTranscoder
from projections.recorded import Recorded

_P = "domain.billiards.player:Player."
_G = "domain.billiards.group:Group."
PLAYER_TOPICS = tuple(
    _P + name
    for name in (
        "Registered", "ProfileUpdated", "PreferencesSet", "RequestSent", "RequestReceived",
        "RequestDropped", "FriendAdded", "FriendRemoved", "PlayerBlocked", "PlayerUnblocked",
        "Invited",
    )
)
GROUP_TOPICS = tuple(
    _G + name
    for name in (
        "Created", "JoinRequested", "JoinDeclined", "MemberJoined", "MemberLeft", "RoleSet",
        "Changed", "InviteReplaced",
    )
)


class SocialChange(msgspec.Struct, frozen=True):
    kind: str
    """`Player.<Event>` or `Group.<Event>`."""
    aggregate_id: UUID
    version: int
    at: datetime
    fields: dict[str, Any]


_state = MsgspecTranscoder()


class SocialProjection:
    topics: tuple[str, ...] = PLAYER_TOPICS + GROUP_TOPICS

    def __init__(self) -> None:
        self.changes: list[SocialChange] = []

    def apply(self, event: Recorded) -> None:
        if event.topic not in self.topics:
            return
        state: dict[str, Any] = _state.decode(event.state)
        at = state.pop("timestamp")
        for name in ("originator_id", "originator_version", "originator_topic"):
            state.pop(name, None)
        kind = event.topic.rsplit(":", 1)[1]
        self.changes.append(
            SocialChange(kind, event.originator_id, event.originator_version, at, state)
        )

    def collect(self) -> list[SocialChange]:
        changes, self.changes = self.changes, []
        return changes
