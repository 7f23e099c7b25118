"""What the feedback handlers receive: their running parts, as the dependency `feedback`."""

from __future__ import annotations

from dataclasses import dataclass

from api.node import parts_provider
from commands.feedback.feedbacks import Feedbacks
from infra.feedback.view import FeedbackView

NAME = "feedback"


@dataclass
class FeedbackParts:
    feedbacks: Feedbacks
    view: FeedbackView


provide_feedback = parts_provider(NAME, FeedbackParts)
