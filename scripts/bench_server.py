#!/usr/bin/env python3
"""`tessera serve` with one more route: the HTTP benchmarks' baseline, on the same server.

    .venv/bin/python scripts/bench_server.py serve --host 127.0.0.1 --port 8000

`POST /bench/bare/{canvas_id}/pixels` takes the placement's body, decoded by the same strict
struct through the same middleware, and answers what a placement answers, without the player's
gate, the writer or the database: what the web layer alone costs. A benchmark that drives both
this route and the real one in one run can tell the code's cost from the machine's speed.
"""

from __future__ import annotations

import sys
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


if __name__ == "__main__":
    api.app.create_app = with_bare_route(api.app.create_app)  # type: ignore[assignment]
    sys.exit(main(sys.argv[1:]))
