"""Feedback: what a visitor tells the Pixel Wars team, one aggregate per submission.

Admins read it and tick it off as resolved. Pure: the id, the time and who sent it come in as
arguments.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

MAX_MESSAGE = 4000
MAX_CONTACT = 200
MAX_PAGE = 300
"""Also the limit of the user agent, which is cut to it rather than refused."""


class FeedbackError(Exception):
    """Base of every refusal about feedback; `code` names it on the wire."""

    code = "feedback_error"


class InvalidFeedback(FeedbackError):
    code = "invalid_feedback"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class FeedbackNotFound(FeedbackError):
    code = "feedback_not_found"


class FeedbackIdReused(FeedbackError):
    """A client's id for a submission, sent again with something else."""

    code = "feedback_id_reused"


def _optional(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidFeedback(field, f"{field} is at most {limit} characters")
    return value or None


class Feedback(Aggregate):
    class Submitted(Aggregate.Created):
        message: str
        contact: str | None
        account_id: str | None
        canvas_id: UUID | None
        page: str | None
        user_agent: str | None

    def __init__(
        self,
        message: str,
        contact: str | None,
        account_id: str | None,
        canvas_id: UUID | None,
        page: str | None,
        user_agent: str | None,
    ) -> None:
        self.message = message
        self.contact = contact
        self.account_id = account_id
        self.canvas_id = canvas_id
        self.page = page
        self.user_agent = user_agent
        self.resolved_by: str | None = None

    @classmethod
    def submit(
        cls,
        *,
        feedback_id: UUID,
        message: str,
        contact: str | None = None,
        account_id: str | None = None,
        canvas_id: UUID | None = None,
        page: str | None = None,
        user_agent: str | None = None,
        now: datetime,
    ) -> Feedback:
        message = message.strip()
        if not message:
            raise InvalidFeedback("message", "message needs at least one visible character")
        if len(message) > MAX_MESSAGE:
            raise InvalidFeedback("message", f"message is at most {MAX_MESSAGE} characters")
        return cls._create(
            cls.Submitted,
            id=feedback_id,
            timestamp=now,
            message=message,
            contact=_optional(contact, "contact", MAX_CONTACT),
            account_id=account_id,
            canvas_id=canvas_id,
            page=_optional(page, "page", MAX_PAGE),
            user_agent=(user_agent or "")[:MAX_PAGE] or None,
        )

    def check_resent(self, resent: Feedback) -> None:
        """A submission sent again under this one's id says the same (whoever sends it: a
        retry may go out signed out, after the access token expired)."""
        said = (self.message, self.contact, self.canvas_id, self.page)
        if (resent.message, resent.contact, resent.canvas_id, resent.page) != said:
            raise FeedbackIdReused(f"feedback {self.id} was submitted with something else")

    @property
    def is_resolved(self) -> bool:
        return self.resolved_by is not None

    def resolve(self, *, by: str, now: datetime) -> None:
        """Tick the item off; resolving it again changes nothing."""
        if not self.is_resolved:
            self.trigger_event(self.Resolved, timestamp=now, resolved_by=by)

    class Resolved(Aggregate.Event):
        resolved_by: str

        def apply(self, feedback: Feedback) -> None:
            feedback.resolved_by = self.resolved_by
