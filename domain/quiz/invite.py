"""Invite codes: six characters without look-alikes, each pointing at the session it opens.
An `InviteCode` aggregate per code makes a code unique among open sessions: claiming one that
points at an open session loses the race (the store refuses a second creation), and a code whose
session stopped taking players may be pointed at a new one."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.quiz.errors import WrongCode

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/I/L: a code read off a projector is typed right."""
LENGTH = 6
_NAMESPACE = uuid.UUID("6f1b8a1e-0c4d-4a43-8d2f-3f5e0b9a7c21")


def normalise_code(code: str) -> str:
    code = code.strip().upper().replace(" ", "").replace("-", "")
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        raise WrongCode("no open session has that code")
    return code


def code_from(numbers: list[int]) -> str:
    """A code from `LENGTH` random numbers (the caller's CSPRNG)."""
    return "".join(ALPHABET[n % len(ALPHABET)] for n in numbers[:LENGTH])


def invite_id(code: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"quiz-invite:{code}")


class InviteCode(Aggregate):
    class Claimed(Aggregate.Created):
        code: str
        session_id: UUID

    def __init__(self, code: str, session_id: UUID) -> None:
        self.code = code
        self.session_id = session_id

    @classmethod
    def claim(cls, *, code: str, session_id: UUID, now: datetime) -> InviteCode:
        return cls._create(
            cls.Claimed, id=invite_id(code), timestamp=now, code=code, session_id=session_id
        )

    def point_to(self, *, session_id: UUID, now: datetime) -> None:
        self.trigger_event(self.Repointed, timestamp=now, session_id=session_id)

    class Repointed(Aggregate.Event):
        session_id: UUID

        def apply(self, invite: InviteCode) -> None:
            invite.session_id = self.session_id
