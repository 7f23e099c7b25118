"""The feedback context: the one place that builds its parts."""

from __future__ import annotations

import asyncio

import asyncpg
from litestar import Router
from litestar.di import Provide

from api.feedback.controller import AdminFeedbackController, FeedbackController, feedback_page
from api.feedback.parts import NAME, FeedbackParts, provide_feedback
from api.node import Projection, Spine
from commands.feedback.feedbacks import Feedbacks
from infra.feedback import view as feedback_view
from infra.feedback.view import FeedbackReadModel, FeedbackView
from infra.spine.eventstore import application_env


class FeedbackContext:
    name = NAME
    application = Feedbacks
    publish_gather_s = 0.005

    def __init__(self) -> None:
        self._parts: FeedbackParts | None = None

    async def migrate(self, conn: asyncpg.Connection, schema: str) -> None:
        await feedback_view.migrate(conn, schema)

    def projections(self, spine: Spine) -> list[Projection]:
        linger_s = spine.settings.projection_linger_ms / 1000
        view = FeedbackView(spine.pool, spine.settings.schema)
        return [Projection(FeedbackReadModel(view), linger_s=linger_s, fetch_timeout_s=linger_s)]

    async def start(self, spine: Spine) -> FeedbackParts:
        feedbacks = await asyncio.to_thread(Feedbacks, application_env(spine.settings))
        self._parts = FeedbackParts(feedbacks, FeedbackView(spine.pool, spine.settings.schema))
        return self._parts

    async def stop(self) -> None:
        if self._parts is not None:
            await asyncio.to_thread(self._parts.feedbacks.close)

    def router(self) -> Router:
        return Router(
            "/",
            route_handlers=[feedback_page, FeedbackController, AdminFeedbackController],
            dependencies={"feedback": Provide(provide_feedback, sync_to_thread=False)},
        )
