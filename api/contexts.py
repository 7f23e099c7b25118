"""The contexts this service runs: the one list to change when a context is added."""

from __future__ import annotations

from api.billiards.wiring import BilliardsContext
from api.canvas.wiring import CanvasContext
from api.desk.wiring import DeskContext
from api.feedback.wiring import FeedbackContext
from api.identity.wiring import IdentityContext
from api.node import Context
from api.quiz.wiring import QuizContext
from api.relay.wiring import RelayContext


def all_contexts() -> list[Context]:
    """Fresh, unstarted contexts. Identity comes first: its gate authenticates the others."""
    return [
        IdentityContext(),
        CanvasContext(),
        FeedbackContext(),
        DeskContext(),
        QuizContext(),
        RelayContext(),
        BilliardsContext(),
    ]
