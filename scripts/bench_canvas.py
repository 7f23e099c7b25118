#!/usr/bin/env python3
"""End-to-end canvas benchmark: one JSON line on stdout, progress on stderr.

    .venv/bin/python scripts/bench_canvas.py [--quick]

Phases, all in one run, against one schema and one stream prefix made up for the run (both dropped
at the end, even on failure):

1. snapshot: encode / decode a realistic late-game 2000x2000 board (`compress_board`);
2. HTTP end to end: `tessera serve` in a subprocess, driven by a raw-asyncio load generator in
   another subprocess (64 keep-alive connections), which also listens to the canvas's live deltas
   on core NATS to time placement -> delta; first, the same requests to a bare route of the same
   server (`scripts/bench_server.py`: the same body decoded, no gate, no writer) as the web
   layer's baseline, so `http_to_bare_ratio` and `http_ack_p99_over_bare` hold on any machine;
3. the canvas writer in this process (`Canvases(...).writer(...)`, batched), into the same schema;
4. the ceiling: asyncpg `copy_records_to_table` of as many same-size rows into a scratch table
   shaped like the events table, 2000 rows a transaction;
5. rebuilding the bitmap projection from the event store (everything the phases above wrote).

The server is stopped before phase 3, so that the writer, the COPY and the rebuild have the
machine to themselves. Service URLs: DATABASE_URL / NATS_URL, else the local defaults, else
embedded servers (`infra.embedded`).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import math
import os
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import benchkit  # scripts/ is on sys.path when this file runs
from benchkit import Run, cpu_ticks, http_json, percentile_ms, say

WIDTH = HEIGHT = 2000
COLOURS = 32
PALETTE = [
    f"#{(i * 8) % 256:02x}{(255 - i * 8) % 256:02x}{(i * 37) % 256:02x}" for i in range(COLOURS)
]
TOPIC_PLACED = "domain.canvas:Canvas.PixelPlaced"
DELTA_HEADER = struct.Struct("<QQ")  # projections.canvas.bitmap.HEADER


# ================================================================================================
# The load generator (a subprocess of the bench: `--loadgen '<json params>'`)
# ================================================================================================


@dataclass
class _HttpStats:
    ok: int = 0
    errors: int = 0
    reconnects: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)


@dataclass
class _Phase:
    stats: _HttpStats = field(default_factory=_HttpStats)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: list[float | None] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def _loadgen(p: dict[str, Any]) -> dict[str, Any]:
    import random

    import msgspec
    import nats

    host, port, canvas_id = p["host"], p["port"], p["canvas_id"]
    connections, users, duration, warmup = p["connections"], p["users"], p["duration"], p["warmup"]
    rng = random.Random(p["seed"])

    # Requests are built up front: the generator shares the cores with the server. The bare
    # baseline (`scripts/bench_server.py`) gets the very same requests on its own path.
    pool_size = 60_000
    bodies = [
        b'{"x":%d,"y":%d,"colour":%d}'
        % (rng.randrange(WIDTH), rng.randrange(HEIGHT), rng.randrange(COLOURS))
        for _ in range(pool_size)
    ]

    def requests_to(path: str) -> list[bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nX-Dev-User: p"
        ).encode()
        return [
            head + b"%d\r\nContent-Length: %d\r\n\r\n" % (i % users, len(body)) + body
            for i, body in enumerate(bodies)
        ]

    decode_body = msgspec.json.decode
    perf = time.perf_counter

    # -- place -> delta ----------------------------------------------------------------------
    pending: dict[int, float] = {}  # version -> send time, acknowledged but not yet seen
    delta_tos: list[int] = []  # the deltas seen, in order: (from, to] and arrival
    delta_froms: list[int] = []
    delta_arrivals: list[float] = []
    delta_latencies: list[float] = []
    delta_stats = {"messages": 0, "entries": 0, "out_of_order": 0}

    async def on_delta(msg: Any) -> None:
        arrival = perf()
        data = msg.data
        from_version, to_version = DELTA_HEADER.unpack_from(data)
        delta_stats["messages"] += 1
        delta_stats["entries"] += (len(data) - DELTA_HEADER.size) // 4
        if delta_tos and to_version <= delta_tos[-1]:
            delta_stats["out_of_order"] += 1
            return
        delta_froms.append(from_version)
        delta_tos.append(to_version)
        delta_arrivals.append(arrival)
        if pending:
            for version in range(from_version + 1, to_version + 1):
                sent = pending.pop(version, None)
                if sent is not None:
                    delta_latencies.append(arrival - sent)

    def acknowledged(version: int, sent: float) -> None:
        if delta_tos and version <= delta_tos[-1]:
            # The delta overtook the HTTP answer (both follow the commit).
            i = bisect.bisect_left(delta_tos, version)
            if delta_froms[i] < version:
                delta_latencies.append(delta_arrivals[i] - sent)
                return
        pending[version] = sent

    nc = await nats.connect(p["nats_url"], name="bench-loadgen", max_reconnect_attempts=3)
    await nc.subscribe(p["delta_subject"], cb=on_delta, pending_msgs_limit=1_000_000)
    await nc.flush()

    # -- HTTP --------------------------------------------------------------------------------
    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(host, port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def phase(path: str, on_ok: Callable[[bytes, float], None]) -> _Phase:
        """`connections` keep-alive workers sending the pool's requests to `path` for the
        warm-up, then for `duration` measured."""
        requests = requests_to(path)
        result = _Phase()
        stats, latencies = result.stats, result.latencies
        counter = [0]
        measuring = [False]
        deadline = [0.0]

        async def worker() -> None:
            reader, writer = await connect()
            try:
                while perf() < deadline[0]:
                    request = requests[counter[0] % pool_size]
                    counter[0] += 1
                    measured = measuring[0]
                    sent = perf()
                    writer.write(request)
                    head_bytes = await reader.readuntil(b"\r\n\r\n")
                    status = int(head_bytes[9:12])
                    lower = head_bytes.lower()
                    at = lower.find(b"\r\ncontent-length:")
                    if at < 0:
                        raise RuntimeError(f"no Content-Length in {head_bytes!r}")
                    end = lower.index(b"\r\n", at + 2)
                    body = await reader.readexactly(int(lower[at + 17 : end]))
                    done = perf()
                    if measured:
                        latencies.append(done - sent)
                        if status == 200:
                            stats.ok += 1
                            on_ok(body, sent)
                        else:
                            stats.errors += 1
                            key = str(status)
                            stats.statuses[key] = stats.statuses.get(key, 0) + 1
                            if len(stats.error_samples) < 5:
                                stats.error_samples.append(body[:300].decode(errors="replace"))
                    if b"\r\nconnection: close" in lower:
                        writer.close()
                        stats.reconnects += 1
                        reader, writer = await connect()
            finally:
                writer.close()

        deadline[0] = perf() + warmup + duration
        tasks = [asyncio.create_task(worker()) for _ in range(connections)]
        await asyncio.sleep(warmup)
        measuring[0] = True
        server_pid = p.get("server_pid")
        cpu_before = (cpu_ticks(server_pid), cpu_ticks(os.getpid()), cpu_ticks())
        start = perf()
        outcome = await asyncio.gather(*tasks, return_exceptions=True)
        result.elapsed = perf() - start
        cpu_after = (cpu_ticks(server_pid), cpu_ticks(os.getpid()), cpu_ticks())
        result.cpu = [
            None if math.isnan(b - a) else round((b - a) / result.elapsed, 2)
            for a, b in zip(cpu_before, cpu_after, strict=True)
        ]
        result.failures = [repr(x) for x in outcome if isinstance(x, BaseException)]
        return result

    bare = await phase(f"/bench/bare/{canvas_id}/pixels", lambda body, sent: None)
    await asyncio.sleep(0.5)
    real = await phase(
        f"/api/canvas/{canvas_id}/pixels",
        lambda body, sent: acknowledged(decode_body(body)["version"], sent),
    )
    stats, latencies, elapsed, cpu, failures = (
        real.stats, real.latencies, real.elapsed, real.cpu, real.failures
    )

    # The last placements' deltas: wait for them a little.
    drain_until = perf() + 5.0
    while pending and perf() < drain_until:
        await asyncio.sleep(0.05)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(nc.drain(), 5)

    return {
        "bare_ok": bare.stats.ok,
        "bare_errors": bare.stats.errors + len(bare.failures),
        "bare_error_samples": (bare.stats.error_samples + bare.failures)[:3],
        "bare_per_s": round(bare.stats.ok / bare.elapsed, 1) if bare.elapsed > 0 else None,
        "bare_p50_ms": percentile_ms(bare.latencies, 50),
        "bare_p99_ms": percentile_ms(bare.latencies, 99),
        "bare_server_cpu_cores": bare.cpu[0],
        "ok": stats.ok,
        "errors": stats.errors,
        "statuses": stats.statuses,
        "error_samples": stats.error_samples,
        "reconnects": stats.reconnects,
        "worker_failures": failures[:5],
        "worker_failure_count": len(failures),
        "elapsed_s": round(elapsed, 3),
        "placements_per_s": round(stats.ok / elapsed, 1) if elapsed > 0 else None,
        "ack_p50_ms": percentile_ms(latencies, 50),
        "ack_p99_ms": percentile_ms(latencies, 99),
        "ack_max_ms": round(max(latencies) * 1000, 3) if latencies else None,
        "cpu_cores": {"server": cpu[0], "loadgen": cpu[1], "machine_busy": cpu[2]},
        "delta_p50_ms": percentile_ms(delta_latencies, 50),
        "delta_p99_ms": percentile_ms(delta_latencies, 99),
        "delta_samples": len(delta_latencies),
        "delta_missing": len(pending),
        "delta_messages": delta_stats["messages"],
        "delta_entries": delta_stats["entries"],
        "delta_out_of_order": delta_stats["out_of_order"],
        "delta_mean_span": round(
            sum(t - f for f, t in zip(delta_froms, delta_tos, strict=True)) / len(delta_tos), 1
        )
        if delta_tos
        else None,
    }


# ================================================================================================
# The bench
# ================================================================================================


# -- 1. snapshot encode / decode ------------------------------------------------------------------


def bench_snapshot(seed: int, runs: int = 7) -> dict[str, Any]:
    import numpy as np

    from infra.canvas.view import compress_board, decompress_board

    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, COLOURS, size=(HEIGHT // 10, WIDTH // 10), dtype=np.uint8)
    board = np.repeat(np.repeat(blocks, 10, axis=0), 10, axis=1)
    noise = rng.random(board.shape) < 0.10
    board[noise] = rng.integers(0, COLOURS, size=int(noise.sum()), dtype=np.uint8)
    pixels = np.ascontiguousarray(board.ravel())

    encode_times, decode_times = [], []
    data = b""
    for _ in range(runs):
        t0 = time.perf_counter()
        data = compress_board(pixels)
        encode_times.append(time.perf_counter() - t0)
    for _ in range(runs):
        t0 = time.perf_counter()
        back = decompress_board(data)
        decode_times.append(time.perf_counter() - t0)
    if not np.array_equal(back, pixels):
        raise RuntimeError("compress_board / decompress_board do not round-trip")
    return {
        "snapshot_encode_ms": round(float(np.median(encode_times)) * 1000, 3),
        "snapshot_decode_ms": round(float(np.median(decode_times)) * 1000, 3),
        "snapshot_bytes": len(data),
        "snapshot_raw_bytes": pixels.nbytes,
    }


# -- 2. HTTP end to end ---------------------------------------------------------------------------


async def create_canvas(port: int, user: str) -> str:
    """A canvas of the bench's size and palette, no cooldown, made over HTTP by `user` as an
    admin: its id."""
    status, created = await asyncio.to_thread(
        http_json,
        "POST",
        f"http://127.0.0.1:{port}/api/canvas/",
        {"width": WIDTH, "height": HEIGHT, "palette": PALETTE, "cooldown_ms": 0},
        {"X-Dev-User": user, "X-Dev-Roles": "admin"},
    )
    if status != 201 or not isinstance(created, dict) or "id" not in created:
        raise RuntimeError(f"POST /api/canvas answered {status}: {created!r}")
    return str(created["id"])


async def bench_http(run: Run, args: argparse.Namespace) -> dict[str, Any]:
    port = benchkit.free_port()
    say(f"starting the server on port {port} (schema {run.schema})")
    t0 = time.perf_counter()
    os.environ["BENCH_ASGI"] = args.asgi  # read by scripts/bench_server.py
    if args.split:
        await benchkit.start_split(run, [port], command=benchkit.BENCH_SERVER)
    else:
        await benchkit.start_server(run, port, command=benchkit.BENCH_SERVER)
    say(f"server up in {time.perf_counter() - t0:.1f} s")
    base = f"http://127.0.0.1:{port}"
    canvas_id = await create_canvas(port, "bench")
    say(f"canvas {canvas_id}: load for {args.http_seconds:g} s, {args.connections} connections")

    params = {
        "host": "127.0.0.1",
        "port": port,
        "canvas_id": canvas_id,
        "connections": args.connections,
        "users": args.users,
        "duration": args.http_seconds,
        "warmup": args.warmup_seconds,
        "seed": args.seed,
        "server_pid": run.server.pid if run.server is not None else None,
        "nats_url": run.settings.nats_url,
        "delta_subject": run.settings.delta_subject(canvas_id),
    }
    limit = args.warmup_seconds + args.http_seconds + 60
    result = await benchkit.run_loadgen(run, __file__, params, limit)

    # What the server says it holds, once the projection has caught up.
    _, meta = await asyncio.to_thread(http_json, "GET", f"{base}/api/canvas/{canvas_id}")
    health_status, health = await asyncio.to_thread(http_json, "GET", f"{base}/health")
    server_alive = run.server is not None and run.server.poll() is None
    t_stop = time.perf_counter()
    stopped_cleanly = benchkit.stop_server(run, timeout=10.0)
    benchkit.stop_helpers(run)
    stop_s = time.perf_counter() - t_stop
    if not stopped_cleanly:
        say(f"the server did not exit within {stop_s:.0f} s of SIGTERM: killed it")
    server_errors = benchkit.server_log_errors(run.server_log)
    say(
        f"HTTP: {result['placements_per_s']}/s, ack p50 {result['ack_p50_ms']} ms "
        f"p99 {result['ack_p99_ms']} ms, errors {result['errors']}; delta p50 "
        f"{result['delta_p50_ms']} ms p99 {result['delta_p99_ms']} ms ({result['delta_samples']})"
    )
    if result["errors"] or result["worker_failure_count"]:
        say(
            f"HTTP errors: {result['statuses']} {result['error_samples']} "
            f"{result['worker_failures']}"
        )
    if server_errors:
        say(f"server log errors: {server_errors}")
    if result["bare_errors"]:
        say(f"bare baseline errors: {result['bare_errors']} {result['bare_error_samples']}")
    bare_per_s, bare_p99 = result["bare_per_s"], result["bare_p99_ms"]
    # What a request costs the server's cores, whatever the load generator's connections leave
    # idle (a closed loop of 64 waits on the writer's commits): a placement's cost over the bare
    # route's. Under `serve` it includes the log publisher and the projections.
    per_placement = _cpu_us(result["cpu_cores"]["server"], result["placements_per_s"])
    per_bare = _cpu_us(result["bare_server_cpu_cores"], bare_per_s)
    return {
        "http_server_cpu_us_per_placement": per_placement,
        "http_bare_server_cpu_us": per_bare,
        "http_cpu_over_bare": round(per_placement / per_bare, 2)
        if per_placement and per_bare
        else None,
        "http_placements_per_s": result["placements_per_s"],
        "http_bare_per_s": bare_per_s,
        "http_to_bare_ratio": round(result["placements_per_s"] / bare_per_s, 3)
        if bare_per_s and result["placements_per_s"] is not None
        else None,
        "http_bare_p99_ms": bare_p99,
        "http_ack_p99_over_bare": round(result["ack_p99_ms"] / bare_p99, 2)
        if bare_p99 and result["ack_p99_ms"] is not None
        else None,
        "http_bare_p50_ms": result["bare_p50_ms"],
        "http_bare_errors": result["bare_errors"],
        "http_bare_server_cpu_cores": result["bare_server_cpu_cores"],
        "http_ack_p50_ms": result["ack_p50_ms"],
        "http_ack_p99_ms": result["ack_p99_ms"],
        "http_ack_max_ms": result["ack_max_ms"],
        "http_errors": result["errors"] + result["worker_failure_count"],
        "http_ok": result["ok"],
        "http_elapsed_s": result["elapsed_s"],
        "http_error_statuses": result["statuses"],
        "delta_p50_ms": result["delta_p50_ms"],
        "delta_p99_ms": result["delta_p99_ms"],
        "delta_samples": result["delta_samples"],
        "delta_missing": result["delta_missing"],
        "delta_messages": result["delta_messages"],
        "delta_mean_span": result["delta_mean_span"],
        "http_canvas_version": meta.get("version") if isinstance(meta, dict) else None,
        "http_server_alive_after": server_alive and health_status == 200,
        "http_server_stop_s": round(stop_s, 2),
        "http_server_stopped_cleanly": stopped_cleanly,
        "http_cpu_cores": result["cpu_cores"],
        "http_server_log_errors": server_errors,
        "_health": health,
    }


def _cpu_us(cores: float | None, per_s: float | None) -> float | None:
    """Microseconds of the server's CPU a request, from cores busy at a rate of requests."""
    return round(cores / per_s * 1e6, 1) if cores and per_s else None


# -- 3. the canvas writer -------------------------------------------------------------------------


async def bench_writer(run: Run, n: int, top_up_to: int) -> dict[str, Any]:
    from commands.actor import Actor
    from commands.canvas.canvases import Canvases, Order
    from commands.canvas.wire import CreateCanvas, PlacePixel
    from infra.spine.eventstore import application_env

    app = await asyncio.to_thread(Canvases, env=application_env(run.settings), max_batch=2000)
    try:
        canvas = await asyncio.to_thread(
            app.create_canvas,
            CreateCanvas(width=WIDTH, height=HEIGHT, palette=PALETTE, cooldown_ms=0),
        )
        writer = await asyncio.to_thread(app.writer, canvas.id)

        import numpy as np

        rng = np.random.default_rng(12345)
        xs = rng.integers(0, WIDTH, n).tolist()
        ys = rng.integers(0, HEIGHT, n).tolist()
        cs = rng.integers(0, COLOURS, n).tolist()
        actors = [Actor(f"u{i}") for i in range(5000)]
        commands = [
            Order(actors[i % 5000], PlacePixel(x=xs[i], y=ys[i], colour=cs[i])) for i in range(n)
        ]

        async def place_all(batch: list[Any], chunk: int = 10_000) -> tuple[float, list[Any]]:
            """Every command submitted, and the time until all are answered. The writer answers
            in the order it was given, so the last answer is awaited, then any still open: a
            `gather` of them all took a done-callback and an `ensure_future` per command, over a
            quarter of the event loop's time in this phase, taken from the writer's thread by
            the interpreter lock (a server's request awaits just its own)."""
            submit = writer.submit
            futures: list[asyncio.Future[Any]] = []
            t0 = time.perf_counter()
            for start in range(0, len(batch), chunk):
                futures.extend(submit(c) for c in batch[start : start + chunk])
                await asyncio.sleep(0)
            async with asyncio.timeout(600):
                await asyncio.wait(futures[-1:])
                if still := [f for f in futures if not f.done()]:
                    await asyncio.wait(still)
            elapsed = time.perf_counter() - t0
            return elapsed, [f.exception() or f.result() for f in futures]

        say(f"writer: {n} placements")
        elapsed, answers = await place_all(commands)
        saves = writer.saves
        errors = [a for a in answers if isinstance(a, BaseException)]
        versions = [a.version for a in answers if not isinstance(a, BaseException)]
        ordered = versions == list(range(2, 2 + len(versions)))
        result = {
            "writer_placements_per_s": round(n / elapsed, 1),
            "writer_elapsed_s": round(elapsed, 3),
            "writer_saves": saves,
            "writer_batch_mean": round(n / saves, 1) if saves else None,
            "writer_errors": len(errors),
            "writer_conflicts": writer.conflicts,
            "writer_versions_in_order": ordered,
        }
        if errors:
            say(f"writer errors: {len(errors)}, e.g. {errors[:3]!r}")
        say(f"writer: {result['writer_placements_per_s']}/s, {saves} saves")

        # More events for the rebuild, unmeasured.
        stored = await count_events(run)
        extra = max(0, top_up_to - stored)
        if extra:
            say(f"writer: {extra} more placements (unmeasured) for the rebuild to read")
            more = [commands[i % n] for i in range(extra)]
            _, answers = await place_all(more)
            failed = sum(1 for a in answers if isinstance(a, BaseException))
            if failed:
                say(f"top-up: {failed} failed")
        return result
    finally:
        await asyncio.to_thread(app.stop_writers)
        await asyncio.to_thread(app.close)


async def count_events(run: Run) -> int:
    import asyncpg

    from infra.spine.readmodels import quote_ident

    conn = await asyncpg.connect(run.settings.database_url)
    try:
        value = await conn.fetchval(
            f"SELECT count(*) FROM {quote_ident(run.schema)}.canvases_events"
        )
        return int(value)
    finally:
        await conn.close()


# -- 4. the COPY ceiling --------------------------------------------------------------------------


async def bench_copy(run: Run, n: int, batch: int = 2000) -> dict[str, Any]:
    import uuid

    import asyncpg

    from infra.spine.readmodels import quote_ident

    s = quote_ident(run.schema)
    conn = await asyncpg.connect(run.settings.database_url)
    try:
        row = await conn.fetchrow(
            f"SELECT topic, state FROM {s}.canvases_events WHERE topic = $1 "
            "ORDER BY notification_id DESC LIMIT 1",
            TOPIC_PLACED,
        )
        if row is None:
            raise RuntimeError("no PixelPlaced event in the store to take the sizes from")
        topic_len, state_len = len(row["topic"]), len(row["state"])
        await conn.execute(
            f"CREATE TABLE {s}.copy_bench (originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, topic text, state bytea, "
            "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        await conn.execute(
            f"CREATE UNIQUE INDEX copy_bench_notification_id ON {s}.copy_bench "
            "(notification_id ASC)"
        )
        originator = uuid.uuid4()
        topic = "x" * topic_len
        state = os.urandom(state_len)
        records = [(originator, version, topic, state) for version in range(1, n + 1)]
        columns = ("originator_id", "originator_version", "topic", "state")
        say(f"COPY: {n} rows of topic {topic_len} + state {state_len} bytes, {batch} a transaction")
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "copy_bench",
                    schema_name=run.schema,
                    columns=columns,
                    records=records[start : start + batch],
                )
        elapsed = time.perf_counter() - t0
        copied = await conn.fetchval(f"SELECT count(*) FROM {s}.copy_bench")
        if copied != n:
            raise RuntimeError(f"COPY wrote {copied} rows, not {n}")
        await conn.execute(f"DROP TABLE {s}.copy_bench")
        say(f"COPY: {n / elapsed:.0f} rows/s")
        return {
            "copy_rows_per_s": round(n / elapsed, 1),
            "copy_elapsed_s": round(elapsed, 3),
            "row_topic_bytes": topic_len,
            "row_state_bytes": state_len,
        }
    finally:
        await conn.close()


# -- 5. rebuilding the bitmap projection ----------------------------------------------------------


async def bench_rebuild(run: Run) -> dict[str, Any]:
    import asyncpg
    import nats

    from infra.canvas.bitmap_model import BitmapReadModel
    from infra.canvas.view import CanvasView
    from infra.spine.eventstore import events_table
    from infra.spine.runner import ProjectionRunner
    from infra.spine.store_reader import StoreReader

    settings = run.settings
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    nc = await nats.connect(settings.nats_url, name="bench-rebuild", max_reconnect_attempts=3)
    try:
        view = CanvasView(pool, settings.schema, ring=settings.canvas.delta_ring)
        model = BitmapReadModel(
            view,
            None,  # no live deltas from a rebuild
            delta_subject=settings.delta_subject,
            snapshot_every=settings.canvas.snapshot_every,
            snapshot_seconds=settings.canvas.snapshot_seconds,
        )
        runner = ProjectionRunner(
            model,  # type: ignore[arg-type]  # (as in api/app.py: topics is a fixed-size tuple)
            pool=pool,
            js=nc.jetstream(),
            store=StoreReader(pool, settings.schema, events_table("canvases")),
            schema=settings.schema,
            stream=settings.events_stream,
            subject=f"{settings.stream_prefix}.ev.canvas.>",
            consumer=f"{settings.stream_prefix}_bitmap",
        )
        say("rebuilding the bitmap projection")
        t0 = time.perf_counter()
        events = await asyncio.wait_for(runner.rebuild(), 600)
        elapsed = time.perf_counter() - t0
        canvases = await view.list_canvases()
        say(f"rebuild: {events} events in {elapsed:.2f} s ({events / elapsed:.0f}/s)")
        return {
            "rebuild_events": events,
            "rebuild_elapsed_s": round(elapsed, 3),
            "rebuild_events_per_s": round(events / elapsed, 1) if elapsed > 0 else None,
            "rebuild_canvas_versions": sorted(m.version for m in canvases),
        }
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
        await pool.close()


# -- the run, and its clean-up --------------------------------------------------------------------


KEY_ORDER = (
    "writer_placements_per_s",
    "writer_saves",
    "writer_batch_mean",
    "copy_rows_per_s",
    "writer_to_copy_ratio",
    "http_placements_per_s",
    "http_bare_per_s",
    "http_to_bare_ratio",
    "http_ack_p50_ms",
    "http_ack_p99_ms",
    "http_bare_p99_ms",
    "http_ack_p99_over_bare",
    "http_server_cpu_us_per_placement",
    "http_bare_server_cpu_us",
    "http_cpu_over_bare",
    "http_errors",
    "delta_p50_ms",
    "delta_p99_ms",
    "delta_samples",
    "snapshot_encode_ms",
    "snapshot_bytes",
    "snapshot_decode_ms",
    "rebuild_events",
    "rebuild_events_per_s",
)  # the headline figures first; the details after them


async def bench(run: Run, args: argparse.Namespace) -> None:
    """Fills `run.result` phase by phase, so that a failure still reports what was measured."""
    from api.app import migrate

    run.settings = await asyncio.to_thread(benchkit.resolve_settings, run)
    say(f"PostgreSQL {run.settings.database_url}, NATS {run.settings.nats_url}")
    run.migrated = True  # from here on, the schema may exist
    await migrate(run.settings)
    result = run.result

    say("snapshot encode / decode")
    result.update(await asyncio.to_thread(bench_snapshot, args.seed))

    http = await bench_http(run, args)
    health = http.pop("_health", None)
    result.update(http)
    if health is not None:
        result["http_server_health_after"] = health
    if (
        http["http_canvas_version"] is not None
        and http["http_canvas_version"] < 1 + http["http_ok"]
    ):
        run.notes.append(
            f"the HTTP canvas is at version {http['http_canvas_version']} but {http['http_ok']} "
            "placements were acknowledged"
        )

    # The writer and the rebuild run here, in the bench process: tune it as every Tessera
    # process tunes itself at start (`infra.tuning`), so that they are measured as they run.
    from infra.tuning import tune_process

    tune_process()
    result.update(await bench_writer(run, args.placements, args.rebuild_min_events))
    result.update(await bench_copy(run, args.placements))
    ratio = result["writer_placements_per_s"] / result["copy_rows_per_s"]
    result["writer_to_copy_ratio"] = round(ratio, 3)
    result.update(await bench_rebuild(run))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer placements, shorter load")
    parser.add_argument("--placements", type=int, help="writer / COPY rows (200000; quick 30000)")
    parser.add_argument("--http-seconds", type=float, help="HTTP load duration (10; quick 4)")
    parser.add_argument("--warmup-seconds", type=float, help="unmeasured load first (1; quick 0.5)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument(
        "--rebuild-min-events",
        type=int,
        help="top the store up to this many events (300000; quick 0)",
    )
    parser.add_argument(
        "--asgi", choices=("uvicorn", "granian"), default="uvicorn",
        help="the ASGI server of the HTTP phase (granian: HTTP only, no live sockets)",
    )
    parser.add_argument(
        "--split", action="store_true",
        help="the HTTP phase against a `tessera api` node, with `publish` and `project` in "
        "processes of their own (the scaled-out topology), not `tessera serve`",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=1200, help="give up after (s)")
    parser.add_argument("--server-log", type=Path, help="keep the server's log at this path")
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen is not None:
        benchkit.loadgen_main(_loadgen, json.loads(args.loadgen))
        return 0
    q = args.quick
    args.placements = args.placements or (30_000 if q else 200_000)
    args.http_seconds = args.http_seconds or (4.0 if q else 10.0)
    args.warmup_seconds = (
        args.warmup_seconds if args.warmup_seconds is not None else (0.5 if q else 1.0)
    )
    if args.rebuild_min_events is None:
        args.rebuild_min_events = 0 if q else 300_000

    run = benchkit.new_run("bench_canvas", "bench")
    started = time.perf_counter()
    machine = benchkit.machine()
    error = benchkit.run_guarded(
        run, bench(run, args), alarm_s=args.timeout, keep_log=args.server_log
    )
    headline = {key: run.result[key] for key in KEY_ORDER if key in run.result}
    result = benchkit.report(headline, run, error)
    result["machine"] = machine
    result["params"] = {
        "quick": q,
        "asgi": args.asgi,
        "roles": "api + publish + project, three processes" if args.split else "serve",
        "placements": args.placements,
        "writer_max_batch": 2000,
        "canvas": f"{WIDTH}x{HEIGHT}",
        "colours": COLOURS,
        "users": args.users,
        "connections": args.connections,
        "http_seconds": args.http_seconds,
        "warmup_seconds": args.warmup_seconds,
        "rebuild_min_events": args.rebuild_min_events,
        "server_rate_limits": "off (TESSERA_RATE_IP_PER_S=0, TESSERA_RATE_READ_IP_PER_S=0, "
        "TESSERA_RATE_ACCOUNT_PER_S=0)",
        "schema": run.schema,
    }
    if run.notes:
        result["notes"] = run.notes
    result["bench_elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
