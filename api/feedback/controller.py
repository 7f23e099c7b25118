"""Feedback over HTTP: the `/feedback` page, submissions from anyone, the admins' list."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from api.auth import AS_ADMIN, AS_VIEWER
from api.feedback.parts import FeedbackParts
from commands.actor import Actor
from commands.feedback.wire import SubmitFeedback
from domain.feedback import FeedbackIdReused
from infra.feedback.view import FeedbackOut

_PAGE = Path(__file__).parent / "pages" / "feedback.html"


class FeedbackCreated(msgspec.Struct):
    id: UUID


class FeedbackResolvedOut(msgspec.Struct):
    id: UUID
    resolved_by: str


@functools.cache
def _page() -> bytes:
    return _PAGE.read_bytes()


@get("/feedback", include_in_schema=False)
async def feedback_page() -> Response[bytes]:
    """The feedback form (a static page; it posts to `/api/feedback`)."""
    return Response(_page(), media_type=MediaType.HTML, headers={"Cache-Control": "no-cache"})


class FeedbackController(Controller):
    path = "/api/feedback"
    tags = ("feedback",)

    @post("/", status_code=201, dependencies=AS_VIEWER, refuses=(FeedbackIdReused,))
    async def submit_feedback(
        self,
        data: JSONBody[SubmitFeedback],
        viewer: NamedDependency[Actor | None],
        request: Request[Any, Any, Any],
        feedback: NamedDependency[FeedbackParts],
    ) -> FeedbackCreated:
        """Tell the team something; signed-in senders are remembered with it."""
        submitted = await asyncio.to_thread(
            feedback.feedbacks.submit_feedback,
            data,
            account_id=viewer.user if viewer is not None else None,
            user_agent=request.headers.get("user-agent"),
        )
        return FeedbackCreated(submitted.id)


class AdminFeedbackController(Controller):
    path = "/api/admin/feedback"
    tags = ("admin",)
    dependencies = AS_ADMIN

    @get("/")
    async def list_feedback(
        self,
        admin: NamedDependency[Actor],
        feedback: NamedDependency[FeedbackParts],
        before: Annotated[UUID | None, Parameter(description="page after this id")] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        unresolved: Annotated[bool, Parameter(description="only what is still open")] = False,
    ) -> list[FeedbackOut]:
        """Newest first. It follows submissions within a moment (its own projection)."""
        return await feedback.view.list_feedback(limit=limit, before=before, unresolved=unresolved)

    @post("/{feedback_id:uuid}/resolve", status_code=200)
    async def resolve_feedback(
        self,
        feedback_id: FromPath[UUID],
        admin: NamedDependency[Actor],
        feedback: NamedDependency[FeedbackParts],
    ) -> FeedbackResolvedOut:
        """Tick an item off; resolving it again changes nothing."""
        resolved = await asyncio.to_thread(
            feedback.feedbacks.resolve_feedback, feedback_id, by=admin.user
        )
        assert resolved.resolved_by is not None
        return FeedbackResolvedOut(resolved.id, resolved.resolved_by)
