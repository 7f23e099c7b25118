"""What the feedback handlers receive: their running parts, as the dependency `feedback`."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State

from commands.feedback.feedbacks import Feedbacks
from infra.feedback.view import FeedbackView

NAME = "feedback"


@dataclass
class FeedbackParts:
    feedbacks: Feedbacks
    view: FeedbackView


def provide_feedback(state: State) -> FeedbackParts:
    parts = state[NAME]
    assert isinstance(parts, FeedbackParts), "the feedback context runs on API nodes only"
    return parts
