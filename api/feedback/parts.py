"""What the feedback handlers receive: their running parts, as the dependency `feedback`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from api.node import parts_provider
from commands.feedback.feedbacks import Feedbacks
from infra.feedback.view import FeedbackOut

NAME = "feedback"


class FeedbackList(Protocol):
    """The feedback read model (`infra.feedback.view.FeedbackView`), as the admins' list asks
    it. It lives here, not beside that handler, because the handler imports this module."""

    async def list_feedback(
        self, *, limit: int, before: UUID | None, unresolved: bool
    ) -> list[FeedbackOut]: ...


@dataclass
class FeedbackParts:
    feedbacks: Feedbacks
    view: FeedbackList


provide_feedback = parts_provider(NAME, FeedbackParts)
