"""The templates read model: a row per user template, its latest version and parameters. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from commands.codec import MsgspecTranscoder
from projections.recorded import Recorded

_T = "domain.billiards.template:RuleTemplate."
TOPIC_CREATED = _T + "Created"
TOPIC_EDITED = _T + "Edited"
TOPIC_DELETED = _T + "Deleted"


class TemplateChanged(msgspec.Struct, frozen=True):
    template_id: UUID
    version: int
    """The aggregate's version (the template's own version counts creation and edits only)."""
    at: datetime
    kind: str
    owner: str | None = None
    name: str | None = None
    base: str | None = None
    params: dict[str, Any] | None = None


_state = MsgspecTranscoder()


class TemplatesProjection:
    topics: tuple[str, ...] = (TOPIC_CREATED, TOPIC_EDITED, TOPIC_DELETED)

    def __init__(self) -> None:
        self.changes: list[TemplateChanged] = []

    def apply(self, event: Recorded) -> None:
        if event.topic not in self.topics:
            return
        state = _state.decode(event.state)
        self.changes.append(
            TemplateChanged(
                event.originator_id,
                event.originator_version,
                state["timestamp"],
                event.topic.rsplit(".", 1)[1],
                state.get("owner"),
                state.get("name"),
                state.get("base"),
                state.get("params"),
            )
        )

    def collect(self) -> list[TemplateChanged]:
        changes, self.changes = self.changes, []
        return changes
