"""An image of the quiz context: stored once per content (its sha-256), referenced by games and
sessions, deleted by the collector after a grace period. Who may see it is `may_view`."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.quiz.errors import ImageNotFound
from domain.quiz.phases import epoch_ms

_NAMESPACE = uuid.UUID("0b5c3f43-7d0e-4b5e-9a57-9b0a3c2e6a11")


def image_id(sha: str) -> UUID:
    """The aggregate of the image whose content hashes to `sha`."""
    return uuid.uuid5(_NAMESPACE, f"quiz-image:{sha}")


def may_view(
    *,
    public: bool,
    using_sessions: Collection[UUID],
    caller_sessions: Collection[UUID],
    editing: bool = False,
) -> bool:
    """The seed's rule: allowed when the image belongs to a public game or task, or when one of
    the sessions that use it is a session the caller takes part in (host or player); otherwise
    denied. `editing`: the caller uploaded it, or edits a game that uses it (the editor shows
    what it edits), which the seed's rule predates."""
    if public or editing:
        return True
    return not set(using_sessions).isdisjoint(caller_sessions)


class QuizImage(Aggregate):
    class Uploaded(Aggregate.Created):
        sha: str
        content_type: str
        width: int
        height: int
        size: int
        uploader: str

    def __init__(
        self, sha: str, content_type: str, width: int, height: int, size: int, uploader: str
    ) -> None:
        self.sha = sha
        self.content_type = content_type
        self.width = width
        self.height = height
        self.size = size
        self.uploader = uploader
        self.deleted = False
        self.touched_ms = 0

    @classmethod
    def upload(
        cls, *, sha: str, content_type: str, width: int, height: int, size: int, uploader: str,
        now: datetime,
    ) -> QuizImage:
        return cls._create(
            cls.Uploaded, id=image_id(sha), timestamp=now, sha=sha, content_type=content_type,
            width=width, height=height, size=size, uploader=uploader,
        )

    def upload_again(self, *, uploader: str, now: datetime) -> None:
        """The same content once more: restored if it was collected, its grace starts over."""
        self.trigger_event(self.UploadedAgain, timestamp=now, uploader=uploader)

    def reference(self, *, now: datetime) -> None:
        """A game or session starts using it: refused once it was collected; otherwise it is
        touched, so that a collector deciding meanwhile loses the race (same version)."""
        if self.deleted:
            raise ImageNotFound(f"image {self.sha} was deleted: upload it again")
        self.trigger_event(self.Referenced, timestamp=now)

    def collectable(self, *, now: datetime, grace_ms: int) -> bool:
        touched = max(self.touched_ms, epoch_ms(self.created_on))
        return not self.deleted and epoch_ms(now) - touched >= grace_ms

    def collect(self, *, now: datetime, grace_ms: int) -> bool:
        """Delete it if nothing touched it within the grace period; False otherwise."""
        if not self.collectable(now=now, grace_ms=grace_ms):
            return False
        self.trigger_event(self.Deleted, timestamp=now)
        return True

    class UploadedAgain(Aggregate.Event):
        uploader: str

        def apply(self, image: QuizImage) -> None:
            image.deleted = False
            image.touched_ms = epoch_ms(self.timestamp)

    class Referenced(Aggregate.Event):
        def apply(self, image: QuizImage) -> None:
            image.touched_ms = epoch_ms(self.timestamp)

    class Deleted(Aggregate.Event):
        def apply(self, image: QuizImage) -> None:
            image.deleted = True
