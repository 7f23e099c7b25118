#!/usr/bin/env python3
"""`tessera serve` with one more route: the HTTP benchmarks' baseline, on the same server.

    .venv/bin/python scripts/bench_server.py serve --host 127.0.0.1 --port 8000

With `BENCH_ASGI=granian` in its environment it serves under granian instead of uvicorn (one
worker, uvloop): `scripts/bench_canvas.py --asgi granian` measures the web layer under both.

`POST /bench/bare/{canvas_id}/pixels` takes the placement's body, decoded by the same strict
struct through the same middleware, and answers what a placement answers, without the player's
gate, the writer or the database: what the web layer alone costs. A benchmark that drives both
this route and the real one in one run can tell the code's cost from the machine's speed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from litestar import post
from litestar.params import FromPath, JSONBody

import api.app
from api.canvas.controller import PlacementOut
from api.cli import main
from commands.canvas.wire import PlacePixel

BARE_PATH = "/bench/bare/{canvas_id:uuid}/pixels"


@post(BARE_PATH, status_code=200, include_in_schema=False)
async def bare_placement(canvas_id: FromPath[UUID], data: JSONBody[PlacePixel]) -> PlacementOut:
    return PlacementOut(version=1)


def with_bare_route(create_app: Any) -> Any:
    def create(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        app.register(bare_placement)
        return app

    return create


def granian_app() -> Any:
    """The app `serve` runs, for granian's worker (the services' URLs come from the
    environment, as the benchmarks set them)."""
    from infra import settings as settings_module
    from infra.tuning import tune_process

    tune_process()  # as `serve` does
    return with_bare_route(api.app.create_app)(settings_module.load())


def serve_with_granian(argv: list[str]) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    from infra import settings as settings_module

    options = dict(zip(argv[1::2], argv[2::2], strict=False))  # serve --host H --port P
    asyncio.run(api.app.migrate(settings_module.load()))  # as `serve` does first
    sys.path.insert(0, str(Path(__file__).parent))
    Granian(
        "bench_server:granian_app", address=options["--host"], port=int(options["--port"]),
        interface=Interfaces.ASGI, loop=Loops.uvloop, workers=1, factory=True,
        log_enabled=False, working_dir=Path(__file__).parent,
    ).serve()


if __name__ == "__main__":
    if os.environ.get("BENCH_ASGI") == "granian":
        serve_with_granian(sys.argv[1:])
    else:
        api.app.create_app = with_bare_route(api.app.create_app)  # type: ignore[assignment]
        main(sys.argv[1:])
