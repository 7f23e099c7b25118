"""The feedback commands as they travel: msgspec structs, validated at decode time for shape
(and free text for control characters: `commands.text`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from commands.text import Line, Lines
from domain.feedback import MAX_CONTACT, MAX_MESSAGE, MAX_PAGE


class SubmitFeedback(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    message: Annotated[Lines, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE)]
    contact: Annotated[Line, msgspec.Meta(max_length=MAX_CONTACT)] | None = None
    """How to reach the sender, if they want an answer (an e-mail, a Telegram handle)."""
    canvas_id: UUID | None = None
    """The canvas the sender was looking at."""
    page: Annotated[Line, msgspec.Meta(max_length=MAX_PAGE)] | None = None
    """Where the sender was (a path of the web client)."""
    id: UUID | None = None
    """The client's id for this submission, chosen once and sent with every retry of it: the
    submission is then stored once, and each retry answered with this id."""
