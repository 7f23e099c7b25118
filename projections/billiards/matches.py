"""The matches read model: a row per match with its seats, rules, the shots that stand and its
final standings; the scoreboard is folded from the shots when read. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from commands.codec import MsgspecTranscoder
from projections.recorded import Recorded

_M = "domain.billiards.match:BilliardsMatch."
TOPIC_CREATED = _M + "Created"
TOPIC_JOINED = _M + "PlayerJoined"
TOPIC_ORDER = _M + "OrderSet"
TOPIC_KEEPER = _M + "ScorekeeperChanged"
TOPIC_SHOT = _M + "ShotRecorded"
TOPIC_UNDONE = _M + "ShotUndone"
TOPIC_ENDED = _M + "Ended"
TOPIC_FINISHED = _M + "Finished"


class MatchCreated(msgspec.Struct, frozen=True):
    match_id: UUID
    version: int
    at: datetime
    template_id: UUID
    template_version: int
    template_name: str
    rules: dict[str, Any]
    players: list[dict[str, Any]]
    order: list[int]
    creator: str
    table_id: str | None


class MatchChanged(msgspec.Struct, frozen=True):
    """Any later event, as the fields of the row it changes."""

    match_id: UUID
    version: int
    at: datetime
    kind: str
    fields: dict[str, Any]


MatchChange = MatchCreated | MatchChanged

_state = MsgspecTranscoder()


class _Created(msgspec.Struct):
    template_id: UUID
    template_version: int
    template_name: str
    rules: dict[str, Any]
    players: list[dict[str, Any]]
    order: list[int]
    creator: str
    table_id: str | None
    timestamp: datetime


class MatchesProjection:
    topics: tuple[str, ...] = (
        TOPIC_CREATED,
        TOPIC_JOINED,
        TOPIC_ORDER,
        TOPIC_KEEPER,
        TOPIC_SHOT,
        TOPIC_UNDONE,
        TOPIC_ENDED,
        TOPIC_FINISHED,
    )

    def __init__(self) -> None:
        self.changes: list[MatchChange] = []

    def apply(self, event: Recorded) -> None:
        state = _state.decode(event.state)
        if event.topic == TOPIC_CREATED:
            c = msgspec.convert(state, _Created)
            self.changes.append(
                MatchCreated(
                    event.originator_id, event.originator_version, c.timestamp, c.template_id,
                    c.template_version, c.template_name, c.rules, c.players, c.order, c.creator,
                    c.table_id,
                )
            )
            return
        if event.topic not in self.topics:
            return
        kind = event.topic.rsplit(".", 1)[1]
        at = state.pop("timestamp")
        if kind == "ShotRecorded":
            state["shot"] = {**state["shot"], "version": event.originator_version}
        self.changes.append(
            MatchChanged(event.originator_id, event.originator_version, at, kind, state)
        )

    def collect(self) -> list[MatchChange]:
        changes, self.changes = self.changes, []
        return changes
