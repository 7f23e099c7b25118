"""The quiz context's Application: games and images are saved as they are edited (a thread
each, from the API's thread pool); live sessions go through one shared writer thread that
decides each session's commands in order and saves a batch of many sessions' events at once."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Transcoder

from commands import stored
from commands.clock import utc_now
from commands.codec import MsgspecTranscoder
from commands.quiz.decide import Outcome, decide
from commands.quiz.wire import CreateGame, SessionCommand, TaskIn
from commands.shared_writer import SharedWriter
from domain.quiz.errors import (
    GameNotFound,
    ImageNotFound,
    NotAllowed,
    QuizError,
    SessionNotFound,
    WrongCode,
)
from domain.quiz.game import Game
from domain.quiz.image import QuizImage, image_id
from domain.quiz.invite import ALPHABET, LENGTH, InviteCode, code_from, invite_id, normalise_code
from domain.quiz.session import QuizSession
from domain.quiz.tasks import images_of, validate_task

SessionWriter = SharedWriter[QuizSession, SessionCommand]
_ATTEMPTS = 5
_CODE_ATTEMPTS = 20
T = TypeVar("T")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_task_id() -> str:
    return secrets.token_hex(6)


class Quizzes(Application[UUID]):
    name = "quizzes"
    is_snapshotting_enabled = True

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        linger_s: float = 0.005,
        max_batch: int = 2000,
        snapshot_every: int = 2000,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._snapshot_every = snapshot_every
        self._writer: SessionWriter | None = None
        self._writer_lock = threading.Lock()

    def construct_transcoder(self) -> Transcoder:
        return MsgspecTranscoder()

    # -- reading aggregates (commands only: handlers read the read models) ----------------------

    def get_game(self, game_id: UUID) -> Game:
        game = stored.find(self, game_id, Game)
        if game is None or game.deleted:
            raise GameNotFound("no such game")
        return game

    def get_session(self, session_id: UUID) -> QuizSession:
        session = stored.find(self, session_id, QuizSession)
        if session is None:
            raise SessionNotFound("no such session")
        return session

    def get_image(self, sha: str) -> QuizImage | None:
        return stored.find(self, image_id(sha), QuizImage)

    # -- games (blocking) ---------------------------------------------------------------------

    def _referenced(self, images: set[str], now: datetime) -> list[QuizImage]:
        """The images, each touched as referenced now (saved with what references them)."""
        found = []
        for sha in sorted(images):
            image = self.get_image(sha)
            if image is None:
                raise ImageNotFound(f"no image {sha}: upload it first")
            image.reference(now=now)
            found.append(image)
        return found

    def _save_game(self, game: Game, before: set[str], now: datetime) -> None:
        self.save(game, *self._referenced(game.images() - before, now))

    def create_game(self, command: CreateGame, *, owner: str, game_id: UUID | None = None) -> Game:
        now = self.clock()
        tasks = [validate_task(task.raw(), new_task_id()) for task in command.tasks]
        game = Game.create(
            game_id=game_id or uuid4(), owner=owner, details=command.details(), tasks=tasks,
            now=now,
        )
        self._save_game(game, set(), now)
        return game

    def copy_game(self, game_id: UUID, *, user: str) -> Game:
        source = self.get_game(game_id)
        if not source.may_read(user):
            raise GameNotFound("no such game")
        now = self.clock()
        details = {**source.details(), "title": f"Copy of {source.title}"[:120], "public": False}
        tasks = [{**task, "id": new_task_id()} for task in source.tasks]
        game = Game.create(
            game_id=uuid4(), owner=user, details=details, tasks=tasks, copied_from=source.id,
            now=now,
        )
        self._save_game(game, set(), now)
        return game

    def edit_game(self, game_id: UUID, change: Callable[[Game, datetime], T]) -> tuple[Game, T]:
        """Load, change (the game decides), save with the images it starts using; again on a
        race with another writer."""
        for attempt in range(_ATTEMPTS):
            game = self.get_game(game_id)
            before = game.images()
            now = self.clock()
            result = change(game, now)
            try:
                self._save_game(game, before, now)
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            return game, result
        raise AssertionError("unreachable")

    def add_task(
        self, game_id: UUID, task: TaskIn, *, user: str, position: int | None = None
    ) -> dict[str, Any]:
        task_id = new_task_id()
        _, added = self.edit_game(
            game_id,
            lambda game, now: game.add_task(
                user=user, task_id=task_id, raw=task.raw(), position=position, now=now
            ),
        )
        return added

    # -- images (blocking) --------------------------------------------------------------------

    def store_image(
        self, *, sha: str, content_type: str, width: int, height: int, size: int, uploader: str
    ) -> QuizImage:
        """Record an upload; the same content again restarts its grace period."""
        for attempt in range(_ATTEMPTS):
            now = self.clock()
            image = self.get_image(sha)
            if image is None:
                image = QuizImage.upload(
                    sha=sha, content_type=content_type, width=width, height=height, size=size,
                    uploader=uploader, now=now,
                )
            else:
                image.upload_again(uploader=uploader, now=now)
            try:
                self.save(image)
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            return image
        raise AssertionError("unreachable")

    def collect_image(self, sha: str, *, grace_ms: int) -> bool:
        """Record the deletion of an unreferenced image, unless something touched it within
        the grace period; a reference saved meanwhile makes this save lose (same version)."""
        image = self.get_image(sha)
        if image is None or not image.collect(now=self.clock(), grace_ms=grace_ms):
            return False
        try:
            self.save(image)
        except IntegrityError:
            return False
        return True

    # -- sessions -----------------------------------------------------------------------------

    def start_session(self, game_id: UUID, *, user: str, late_join: bool) -> QuizSession:
        game = self.get_game(game_id)
        if not game.may_edit(user):
            raise NotAllowed("only the game's owner and its admins may start it")
        for _ in range(_CODE_ATTEMPTS):
            now = self.clock()
            code = code_from([secrets.randbelow(len(ALPHABET)) for _ in range(LENGTH)])
            session = QuizSession.start(
                session_id=uuid4(),
                game_id=game.id,
                host=user,
                admins=[game.owner, *game.admins],
                title=game.title,
                tasks=game.tasks,
                scoring=game.scoring,
                late_join=late_join,
                invite_code=code,
                now=now,
            )
            invite = self._invite_for(code, session.id, now)
            if invite is None:
                continue
            images = set().union(*(images_of(t) for t in game.tasks))
            try:
                self.save(session, invite, *self._referenced(images, now))
            except IntegrityError:
                continue  # the code was claimed meanwhile, or an image was touched: again
            return session
        raise QuizError("could not find a free invite code: try again")

    def _invite_for(self, code: str, session_id: UUID, now: datetime) -> Aggregate | None:
        """A claim of `code` for the session, or None while it opens another session."""
        invite = stored.find(self, invite_id(code), InviteCode)
        if invite is None:
            return InviteCode.claim(code=code, session_id=session_id, now=now)
        holder = stored.find(self, invite.session_id, QuizSession)
        if holder is not None and holder.joinable():
            return None
        invite.point_to(session_id=session_id, now=now)
        return invite

    def session_of_code(self, code: str) -> UUID:
        invite = stored.find(self, invite_id(normalise_code(code)), InviteCode)
        if invite is None:
            raise WrongCode("no open session has that code")
        return invite.session_id

    # -- the writer ---------------------------------------------------------------------------

    @property
    def writer(self) -> SessionWriter:
        if self._writer is not None:
            return self._writer
        with self._writer_lock:
            if self._writer is None:
                writer = SharedWriter[QuizSession, SessionCommand](
                    name="quiz-sessions",
                    app=self,
                    load=self.get_session,
                    decide=decide,
                    clock=lambda: self.clock(),
                    linger_s=self._linger_s,
                    max_batch=self._max_batch,
                    snapshot_every=self._snapshot_every,
                    domain_errors=(QuizError,),
                )
                writer.start()
                self._writer = writer
            return self._writer

    async def execute(self, session_id: UUID, command: SessionCommand) -> Outcome:
        outcome: Outcome = await self.writer.submit(session_id, command)
        return outcome

    def stop_writers(self) -> None:
        if self._writer is not None:
            self._writer.stop()
