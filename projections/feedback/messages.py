"""The feedback read model: one row per submission, newest first for admins. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from commands.codec import MsgspecTranscoder
from projections.recorded import Recorded

TOPIC_SUBMITTED = "domain.feedback:Feedback.Submitted"
TOPIC_RESOLVED = "domain.feedback:Feedback.Resolved"


class FeedbackSubmitted(msgspec.Struct, frozen=True):
    feedback_id: UUID
    version: int
    message: str
    contact: str | None
    account_id: str | None
    canvas_id: UUID | None
    page: str | None
    user_agent: str | None
    at: datetime


class FeedbackResolved(msgspec.Struct, frozen=True):
    feedback_id: UUID
    version: int
    resolved_by: str
    at: datetime


FeedbackChange = FeedbackSubmitted | FeedbackResolved


class _Submitted(msgspec.Struct):
    message: str
    contact: str | None
    account_id: str | None
    canvas_id: UUID | None
    page: str | None
    user_agent: str | None
    timestamp: datetime


class _Resolved(msgspec.Struct):
    resolved_by: str
    timestamp: datetime


# The stored state carries UUIDs as a msgpack extension: decode it as the store does, then shape it.
_state = MsgspecTranscoder()


def _decode(event: Recorded, kind: type[Any]) -> Any:
    return msgspec.convert(_state.decode(event.state), kind)


class FeedbackProjection:
    topics: tuple[str, ...] = (TOPIC_SUBMITTED, TOPIC_RESOLVED)

    def __init__(self) -> None:
        self.changes: list[FeedbackChange] = []

    def apply(self, event: Recorded) -> None:
        match event.topic:
            case "domain.feedback:Feedback.Submitted":
                s: _Submitted = _decode(event, _Submitted)
                self.changes.append(
                    FeedbackSubmitted(
                        event.originator_id,
                        event.originator_version,
                        s.message,
                        s.contact,
                        s.account_id,
                        s.canvas_id,
                        s.page,
                        s.user_agent,
                        s.timestamp,
                    )
                )
            case "domain.feedback:Feedback.Resolved":
                r: _Resolved = _decode(event, _Resolved)
                self.changes.append(
                    FeedbackResolved(
                        event.originator_id, event.originator_version, r.resolved_by, r.timestamp
                    )
                )

    def collect(self) -> list[FeedbackChange]:
        changes, self.changes = self.changes, []
        return changes
