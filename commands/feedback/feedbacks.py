"""The feedback context's Application: stores each submission, lets admins resolve it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Transcoder

from commands import stored
from commands.clock import utc_now
from commands.codec import MsgspecTranscoder
from commands.feedback.wire import SubmitFeedback
from commands.text import printable
from domain.feedback import Feedback, FeedbackNotFound


class Feedbacks(Application[UUID]):
    name = "feedbacks"

    def __init__(
        self, env: Mapping[str, str] | None = None, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(env)
        self.clock = clock

    def construct_transcoder(self) -> Transcoder:
        return MsgspecTranscoder()

    def submit_feedback(
        self,
        command: SubmitFeedback,
        *,
        account_id: str | None = None,
        user_agent: str | None = None,
        feedback_id: UUID | None = None,
    ) -> Feedback:
        """Store a submission; one sent again under its client's `id` is stored once, and the
        stored one is answered."""
        feedback = Feedback.submit(
            feedback_id=command.id or feedback_id or uuid4(),
            message=command.message,
            contact=command.contact,
            account_id=account_id,
            canvas_id=command.canvas_id,
            page=command.page,
            user_agent=printable(user_agent) if user_agent else None,  # a header, not decoded
            now=self.clock(),
        )
        try:
            self.save(feedback)
        except IntegrityError:
            if command.id is None:
                raise
            stored = self.get_feedback(command.id)
            stored.check_resent(feedback)
            return stored
        return feedback

    def resolve_feedback(self, feedback_id: UUID, *, by: str) -> Feedback:
        feedback = self.get_feedback(feedback_id)
        feedback.resolve(by=by, now=self.clock())
        self.save(feedback)
        return feedback

    def get_feedback(self, feedback_id: UUID) -> Feedback:
        return stored.get(self, feedback_id, Feedback, FeedbackNotFound(f"no feedback {feedback_id}"))
