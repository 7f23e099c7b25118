"""Images over HTTP: `PUT` one (checked, re-encoded, stored by its sha-256), `GET` one under the
seed's rule (404 for whoever may not see it: its existence is not revealed), the collector's
run for admins.

A player shows who they are with `X-Quiz-Player: <token>` (several, comma-separated, for
several sessions); an account with `Authorization: Bearer …`. Pages load images with `fetch`
for that reason (an `<img>` cannot send either)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from api.auth import AS_ADMIN, AS_PLAYER
from api.conditional import wanted_tags
from api.errors import ApiError
from api.quiz.parts import QuizParts
from commands.actor import Actor
from commands.quiz.quizzes import token_hash
from domain.quiz.errors import ImageTooLarge, InvalidImage

PLAYER_HEADER = "x-quiz-player"
MAX_UPLOAD = 6 * 1024 * 1024
"""The body limit of an upload: a little over the image limit, which says why it is refused."""
MAX_TOKENS = 8
PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, max-age=3600"


class ImageOut(msgspec.Struct):
    id: str
    content_type: str
    width: int
    height: int
    size: int
    url: str


def player_hashes(request: Request[Any, Any, Any]) -> list[str]:
    raw = request.headers.get(PLAYER_HEADER, "")
    tokens = [t.strip() for t in raw.split(",") if t.strip()][:MAX_TOKENS]
    return [token_hash(t) for t in tokens if len(t) <= 100]


class ImagesController(Controller):
    path = "/api/quiz/images"
    tags = ("quiz",)

    @put(
        "/",
        status_code=201,
        dependencies=AS_PLAYER,
        request_max_body_size=MAX_UPLOAD,
        refuses=(InvalidImage, ImageTooLarge),
    )
    async def upload_image(
        self, request: Request[Any, Any, Any], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
    ) -> ImageOut:
        """The body is the image itself (any content type: it is checked by its content)."""
        data = await request.body()
        checked = await quiz.images.upload(data, uploader=player.user)
        return ImageOut(
            checked.sha, checked.content_type, checked.width, checked.height, len(checked.data),
            f"/api/quiz/images/{checked.sha}",
        )

    @get("/{sha:str}", media_type="application/octet-stream", refuses=("image_not_found",))
    async def get_image(
        self, sha: FromPath[str], request: Request[Any, Any, Any],
        quiz: NamedDependency[QuizParts],
    ) -> Response[bytes]:
        if len(sha) != 64 or sha.strip("0123456789abcdef"):
            raise ApiError("image_not_found", "no such image")
        gate = request.app.state.gate
        actor = gate.identify(request.headers) if gate is not None else None
        meta = await quiz.access.visible(
            sha, user=None if actor is None else actor.user, player_hashes=player_hashes(request)
        )
        if meta is None:
            raise ApiError("image_not_found", "no such image")
        etag = f'"{sha}"'
        headers = {
            "ETag": etag,
            "Cache-Control": PUBLIC_CACHE if meta.public else PRIVATE_CACHE,
            "X-Content-Type-Options": "nosniff",
        }
        if not meta.public:
            headers["Vary"] = "Authorization, X-Quiz-Player"
        wanted = wanted_tags(request.headers.get("if-none-match", ""))
        if etag in wanted or "*" in wanted:
            return Response(b"", status_code=304, headers=headers)
        data = quiz.blobs.cached(sha)
        if data is None:
            data = await asyncio.to_thread(quiz.blobs.get, sha)
        if data is None:
            raise ApiError("image_not_found", "no such image")
        return Response(data, media_type=meta.content_type, headers=headers)

    @post("/gc", status_code=200, dependencies=AS_ADMIN)
    async def collect_images(
        self, admin: NamedDependency[Actor], quiz: NamedDependency[QuizParts],
        dry_run: Annotated[bool, Parameter(description="only list what would go")] = False,
    ) -> dict[str, Any]:
        """Run the image collector now (the node also runs it every `gc_interval_s`)."""
        return await quiz.images.collect(dry_run=dry_run)
