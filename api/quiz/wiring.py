"""The quiz context (live quiz sessions): the one place that builds its parts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import asyncpg
from litestar import Router
from litestar.di import Provide

from api.node import Projection, Spine
from api.quiz.games import GamesController
from api.quiz.images import ImagesController
from api.quiz.live import quiz_live
from api.quiz.pages import quiz_edit, quiz_host, quiz_play
from api.quiz.parts import NAME, QuizParts, provide_quiz
from api.quiz.sessions import JoinController, SessionsController
from commands.quiz.quizzes import Quizzes
from infra.quiz import catalog, sessions_view
from infra.quiz.catalog import GamesReadModel, GamesView
from infra.quiz.collector import ImageStore
from infra.quiz.hub import QuizHub
from infra.quiz.image_access import ImageAccess
from infra.quiz.images import CachedBlobs, FileBlobStore
from infra.quiz.runtime import QuizRuntime
from infra.quiz.sessions_view import SessionsReadModel, SessionsView
from infra.retry import connect_nats
from infra.settings import Settings
from infra.spine.eventstore import application_env

log = logging.getLogger(__name__)


def blob_root(settings: Settings) -> Path:
    return Path(settings.quiz.blob_dir) if settings.quiz.blob_dir else (
        settings.data_dir / "quiz-images"
    )


class QuizContext:
    name = NAME
    application = Quizzes
    publish_gather_s = 0.005

    def __init__(self) -> None:
        self._parts: QuizParts | None = None
        self._collector: asyncio.Task[None] | None = None

    async def migrate(self, conn: asyncpg.Connection, schema: str) -> None:
        await catalog.migrate(conn, schema)
        await sessions_view.migrate(conn, schema)

    def projections(self, spine: Spine) -> list[Projection]:
        linger_s = spine.settings.quiz.view_linger_ms / 1000
        pool, schema = spine.pool, spine.settings.schema
        return [
            Projection(GamesReadModel(GamesView(pool, schema)), linger_s, linger_s),
            Projection(SessionsReadModel(SessionsView(pool, schema)), linger_s, linger_s),
        ]

    async def start(self, spine: Spine) -> QuizParts:
        settings = spine.settings
        quiz = settings.quiz
        quizzes = await asyncio.to_thread(
            Quizzes,
            application_env(settings),
            linger_s=quiz.writer_linger_ms / 1000,
            max_batch=settings.writer_max_batch,
        )
        sessions = SessionsView(spine.pool, settings.schema)
        hub = QuizHub(
            # A node writes its own frames to its sockets; NATS must not echo them back.
            await connect_nats(settings.nats_url or "", "tessera-quiz-frames", log, no_echo=True),
            prefix=settings.stream_prefix,
            capacity=settings.live_queue_frames,
        )
        runtime = QuizRuntime(quizzes, hub, sessions)
        blobs = CachedBlobs(FileBlobStore(blob_root(settings)))
        images = ImageStore(
            quizzes, blobs, spine.pool, settings.schema, max_bytes=quiz.image_max_bytes,
            max_side=quiz.image_max_side, grace_s=quiz.image_grace_s,
        )
        self._parts = QuizParts(
            quizzes=quizzes,
            games=GamesView(spine.pool, settings.schema),
            sessions=sessions,
            runtime=runtime,
            hub=hub,
            images=images,
            access=ImageAccess(spine.pool, settings.schema),
            blobs=blobs,
        )
        await runtime.start()
        if quiz.gc_interval_s > 0:
            self._collector = asyncio.create_task(images.run_every(quiz.gc_interval_s))
        return self._parts

    async def stop(self) -> None:
        if self._collector is not None:
            self._collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._collector
        parts = self._parts
        if parts is None:
            return
        await asyncio.to_thread(parts.quizzes.stop_writers)
        await parts.hub.stop()
        await asyncio.to_thread(parts.quizzes.close)

    def router(self) -> Router:
        return Router(
            "/",
            route_handlers=[
                GamesController, SessionsController, JoinController, ImagesController, quiz_live,
                quiz_play, quiz_edit, quiz_host,
            ],
            dependencies={"quiz": Provide(provide_quiz, sync_to_thread=False)},
        )
