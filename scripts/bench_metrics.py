#!/usr/bin/env python3
"""What the metrics cost on the hot path: one JSON line on stdout.

    .venv/bin/python scripts/bench_metrics.py [--requests 20000] [--rounds 5]

The same Litestar app — the bare placement route of `scripts/bench_server.py`, the strict body
decoding and the same middleware stack as `tessera serve` — is driven in this process through
its ASGI interface (no sockets), alternately with and without the metrics middleware
(`api.ops.http_metrics`), and the CPU time a request takes is compared. The bare route is the
cheapest request the service answers, so the share measured here is an upper bound of what the
metrics cost the canvas and desk routes (whose requests also reach a writer and a database);
the live sockets' counters are one addition a broadcast, not a request. CPU time of this thread,
so the figure holds on a busy machine; the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import bare_placement
from litestar import Litestar

from api.bodies import JsonBodyRequest
from api.ops import http_metrics
from api.ratelimit import per_ip
from infra.metrics import NodeMetrics
from infra.ratelimit import Limiter


def the_app(*, metrics: bool) -> Litestar:
    middleware: list[Any] = [per_ip(commands=Limiter(0, 0), reads=Limiter(0, 0))]
    if metrics:
        middleware.insert(0, http_metrics(NodeMetrics()))
    return Litestar(
        route_handlers=[bare_placement],
        middleware=middleware,
        request_class=JsonBodyRequest,
        openapi_config=None,
        logging_config=None,
    )


async def drive(app: Litestar, requests: int) -> float:
    """CPU seconds a request, over `requests` sequential requests."""
    body = json.dumps({"x": 1, "y": 2, "colour": 3}).encode()
    path = f"/bench/bare/{uuid4()}/pixels"
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.thread_time()
    for _ in range(requests):
        await app(dict(scope), receive, send)  # type: ignore[arg-type]
    took = time.thread_time() - started
    if set(statuses) != {200}:
        raise RuntimeError(f"the bare route answered {sorted(set(statuses))}")
    return took / requests


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    apps = {True: the_app(metrics=True), False: the_app(metrics=False)}
    for app in apps.values():
        await drive(app, 500)  # warm up
    per_request: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for on in (False, True):
            per_request[on].append(await drive(apps[on], args.requests))
    with_metrics = statistics.median(per_request[True])
    without = statistics.median(per_request[False])
    return {
        "bench": "metrics",
        "request_cpu_us_without_metrics": round(without * 1e6, 2),
        "request_cpu_us_with_metrics": round(with_metrics * 1e6, 2),
        "metrics_cost_us": round((with_metrics - without) * 1e6, 2),
        "metrics_cost_share_of_bare_request": round((with_metrics - without) / without, 4),
        "requests_per_round": args.requests,
        "rounds": args.rounds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    print(json.dumps(asyncio.run(bench(parser.parse_args()))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
