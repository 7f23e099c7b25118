"""The quiz's web client: `/quiz` (players: the code and a nickname, then the game),
`/quiz/host/{session}` (the host's screen for a projector), `/quiz/edit` (owners: games, tasks,
images; starting a session). Modules under `/static/quiz/`."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.params import FromPath
from litestar.response import File

from api.web import REVALIDATE, STATIC, not_modified

_PAGES = STATIC / "quiz"
_HEADERS = {"Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"}


def _page(path: Path) -> File:
    return File(
        path, filename=path.name, content_disposition_type="inline", media_type="text/html",
        headers=_HEADERS,
    )


@get("/quiz", include_in_schema=False, middleware=[not_modified], cache_control=REVALIDATE)
async def quiz_play() -> File:
    return _page(_PAGES / "play.html")


@get("/quiz/edit", include_in_schema=False, middleware=[not_modified], cache_control=REVALIDATE)
async def quiz_edit() -> File:
    return _page(_PAGES / "edit.html")


@get(
    "/quiz/host/{session_id:str}",
    include_in_schema=False,
    middleware=[not_modified],
    cache_control=REVALIDATE,
)
async def quiz_host(session_id: FromPath[str]) -> File:
    del session_id
    return _page(_PAGES / "host.html")
