"""Benchmark of the canvas history: one JSON line.

    .venv/bin/python scripts/bench_history.py [--quick] [--placements N] [--load-seconds S]

A 2000×2000 canvas gets N placements (10,000,000; --quick 300,000) through the canvas writer;
the history projection then builds its keyframes from the event store (its rate, and the
keyframes' size beside the events'). Measured:
- serving a random historical board (keyframe + events from the store, then the zstd body the
  snapshot endpoint sends): p50 / p99 over random versions; the same for the analysts' maps
  at a random version (the last keyframe with maps, and up to M·N events tallied);
- a timelapse of the whole history at 30 fps × 60 s, 720×720 (the square board in 720p), MP4;
- export to Parquet, events/s, beside a raw `COPY (SELECT …) TO STDOUT` of the same rows, both
  on the same table state: after a `VACUUM (ANALYZE)` of the events (what autovacuum does to
  a freshly loaded table anyway: hint bits, visibility map and statistics set; the first read
  of rows just written writes every page to set their hint bits, and an export that paid for
  it measured 51k events/s), alternated COPY, export, export, COPY, the best of two each;
- the stream renderer (`tessera stream`, its own process, 1280×720 at 30 fps, to an FLV file)
  on a second 2000×2000 canvas receiving 1,600 placements/s through the whole spine: its CPU
  share of one core and its late frames.
Everything runs on loopback under a schema and stream prefix of its own, removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchkit
from benchkit import Run, percentile_ms, say

SIDE = 2000
COLOURS = 32
PALETTE = [f"#{(i * 0x07F3A1) & 0xFFFFFF:06x}" for i in range(COLOURS)]


async def load(run: Run, n: int, budget_s: float | None = None) -> tuple[Any, dict[str, Any]]:
    """N placements through the writer, in chunks (bounded memory); the canvas. With a budget,
    the load stops at the first chunk that ends after it (a slow machine measures a smaller
    history, said in the JSON line as `placements_loaded`)."""
    import numpy as np

    from commands.actor import Actor
    from commands.canvas.canvases import Canvases, Order
    from commands.canvas.wire import CreateCanvas, PlacePixel
    from infra.spine.eventstore import application_env

    app = await asyncio.to_thread(Canvases, env=application_env(run.settings), max_batch=2000)
    try:
        canvas = await asyncio.to_thread(app.create_canvas, CreateCanvas(
            width=SIDE, height=SIDE, palette=PALETTE, cooldown_ms=0))
        writer = await asyncio.to_thread(app.writer, canvas.id)
        rng = np.random.default_rng(1)
        actors = [Actor(f"u{i}", is_admin=True) for i in range(5000)]
        t0 = time.perf_counter()
        done = 0
        while done < n:
            size = min(100_000, n - done)
            xs, ys = rng.integers(0, SIDE, size).tolist(), rng.integers(0, SIDE, size).tolist()
            cs = rng.integers(0, COLOURS, size).tolist()
            futures = [writer.submit(Order(actors[(done + i) % 5000],
                                           PlacePixel(x=xs[i], y=ys[i], colour=cs[i])))
                       for i in range(size)]
            answers = await asyncio.gather(*futures, return_exceptions=True)
            failed = [a for a in answers if isinstance(a, BaseException)]
            if failed:
                raise RuntimeError(f"{len(failed)} placements failed: {failed[0]!r}")
            done += size
            over = budget_s is not None and time.perf_counter() - t0 > budget_s
            if done % 1_000_000 == 0 or done == n or over:
                say(f"loaded {done:,} placements ({done / (time.perf_counter() - t0):,.0f}/s)")
            if over:
                say(f"the load budget of {budget_s:.0f} s is spent: {done:,} of {n:,} loaded")
                break
        elapsed = time.perf_counter() - t0
    finally:
        await asyncio.to_thread(app.stop_writers)
        await asyncio.to_thread(app.close)
    return canvas, {"load_placements_per_s": round(done / elapsed), "placements_loaded": done}


async def keyframes(run: Run, pool: Any, nc: Any) -> dict[str, Any]:
    from infra.canvas.history_model import HistoryReadModel
    from infra.canvas.history_view import HistoryView
    from infra.spine.eventstore import events_table
    from infra.spine.runner import ProjectionRunner
    from infra.spine.store_reader import StoreReader

    settings = run.settings
    model = HistoryReadModel(HistoryView(pool, settings.schema),
                             every=settings.history.keyframe_every,
                             maps_every=settings.history.maps_every)
    runner = ProjectionRunner(
        model,  # type: ignore[arg-type]
        pool=pool, js=nc.jetstream(), store=StoreReader(pool, settings.schema,
                                                        events_table("canvases")),
        schema=settings.schema, stream=settings.events_stream,
        subject=f"{settings.stream_prefix}.ev.canvas.>",
        consumer=f"{settings.stream_prefix}_history",
    )
    t0 = time.perf_counter()
    events = await runner.rebuild()
    elapsed = time.perf_counter() - t0
    say(f"history keyframes: {events:,} events in {elapsed:.1f} s")
    sizes = await pool.fetchrow(
        "SELECT pg_total_relation_size(format('%I.canvas_keyframes', $1::text)::regclass), "
        "pg_total_relation_size(format('%I.canvases_events', $1::text)::regclass)",
        settings.schema)
    return {"keyframes_build_events_per_s": round(events / elapsed),
            "keyframes_bytes": sizes[0], "events_bytes": sizes[1]}


async def snapshots(run: Run, pool: Any, canvas_id: Any, last: int, samples: int
                    ) -> dict[str, Any]:
    from api.canvas.encoding import compress
    from infra.canvas.history_view import HistoryView

    view = HistoryView(pool, run.settings.schema)
    rng = random.Random(3)
    times = []
    for _ in range(samples):
        version = rng.randrange(1, last + 1)
        t0 = time.perf_counter()
        board = await view.board_at(canvas_id, SIDE, SIDE, version)
        await asyncio.to_thread(compress, board.tobytes(), "zstd")
        times.append(time.perf_counter() - t0)
    say(f"historical snapshots: p99 {percentile_ms(times, 99)} ms")
    map_times = []
    for _ in range(samples):
        version = rng.randrange(1, last + 1)
        t0 = time.perf_counter()
        await view.maps_at(canvas_id, SIDE, SIDE, version)
        map_times.append(time.perf_counter() - t0)
    say(f"historical maps: p99 {percentile_ms(map_times, 99)} ms")
    return {"historical_snapshot_p50_ms": percentile_ms(times, 50),
            "historical_snapshot_p99_ms": percentile_ms(times, 99),
            "historical_snapshot_samples": samples,
            "historical_maps_p50_ms": percentile_ms(map_times, 50),
            "historical_maps_p99_ms": percentile_ms(map_times, 99)}


async def timelapse(run: Run, pool: Any, canvas: Any, last: int) -> dict[str, Any]:
    from infra.canvas.history_view import HistoryView
    from infra.canvas.timelapse import Plan, Region, render

    plan = Plan(canvas.id, SIDE, SIDE, PALETTE, 1, last, 30 * 60, 30, 0.36,
                Region(0, 0, SIDE, SIDE), "mp4")
    out = run.tmp / "timelapse.mp4"
    t0 = time.perf_counter()
    frames = await render(plan, HistoryView(pool, run.settings.schema), out)
    elapsed = time.perf_counter() - t0
    say(f"timelapse: {frames} frames in {elapsed:.1f} s")
    return {"timelapse_60s_720p_seconds": round(elapsed, 1), "timelapse_frames": frames,
            "timelapse_size": "x".join(map(str, plan.size)),
            "timelapse_bytes": out.stat().st_size}


async def export(run: Run, pool: Any) -> dict[str, Any]:
    """Export and raw `COPY` on the same table state: first `VACUUM (ANALYZE)`, what
    autovacuum does to an insert-only table after a load anyway (the first read of rows just
    written sets their hint bits, writing every page: a bench that exported a table fresh from
    the writer measured that, 51k events/s, not the export); then COPY, export, export, COPY,
    alternated so that neither always goes first; the best of each two."""
    from infra.spine.export import Sink, Source, Span
    from infra.spine.export import export as export_events

    table = f'"{run.settings.schema}".canvases_events'
    t0 = time.perf_counter()
    async with pool.acquire() as conn:
        await conn.execute(f"VACUUM (ANALYZE) {table}")
    vacuum_s = time.perf_counter() - t0
    say(f"export: VACUUM (ANALYZE) of the events in {vacuum_s:.1f} s")

    async def parquet() -> tuple[float, int, int]:
        out = run.tmp / "export.parquet"
        t0 = time.perf_counter()
        with open(out, "wb") as file:  # noqa: ASYNC230 -- the export writes it as it goes
            rows = await export_events(pool, run.settings.schema,
                                       [Source("canvas", "canvases_events")], Span(),
                                       Sink(file, "parquet"))
        return rows / (time.perf_counter() - t0), rows, out.stat().st_size

    async def copy() -> tuple[float, int, int]:
        out = run.tmp / "copy.bin"
        t0 = time.perf_counter()
        async with pool.acquire() as conn:
            status = await conn.copy_from_query(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {table}", output=str(out))
        rows = int(status.split()[-1])
        return rows / (time.perf_counter() - t0), rows, out.stat().st_size

    copies, exports = [await copy()], [await parquet()]
    exports.append(await parquet())
    copies.append(await copy())
    (rate, rows, size), (copy_rate, _, copy_size) = max(exports), max(copies)
    say(f"export: {rate:,.0f} events/s (COPY {copy_rate:,.0f} rows/s); "
        f"runs {[round(e[0]) for e in exports]}, COPY {[round(c[0]) for c in copies]}")
    return {"export_parquet_events_per_s": round(rate), "copy_to_rows_per_s": round(copy_rate),
            "export_to_copy_ratio": round(rate / copy_rate, 3), "export_rows": rows,
            "export_runs_events_per_s": [round(e[0]) for e in exports],
            "copy_runs_rows_per_s": [round(c[0]) for c in copies],
            "export_table_state": "after VACUUM (ANALYZE); COPY, export, export, COPY; best of 2",
            "export_vacuum_s": round(vacuum_s, 1),
            "export_bytes": size, "copy_bytes": copy_size}


async def stream(run: Run, seconds: float, rate: int) -> dict[str, Any]:
    """`tessera stream` on a live canvas fed `rate` placements/s through the whole spine."""
    import numpy as np

    from api.app import build, shutdown
    from commands.actor import Actor
    from commands.canvas.canvases import Order
    from commands.canvas.wire import CreateCanvas, PlacePixel

    node = await build(run.settings)
    try:
        canvases = node["canvas"].canvases
        canvas = await asyncio.to_thread(canvases.create_canvas, CreateCanvas(
            width=SIDE, height=SIDE, palette=PALETTE, cooldown_ms=0))
        while await node["canvas"].reads.view.find_canvas(canvas.id) is None:
            await asyncio.sleep(0.05)
        env = benchkit.tessera_env(run)
        log_path = run.tmp / "stream.log"
        command = [*benchkit.tessera_command().split(), "stream", "--canvas", str(canvas.id),
                   "--output", str(run.tmp / "stream.flv"), "--seconds", str(seconds)]
        process = benchkit.spawn(command, env, log_path)
        rng = np.random.default_rng(2)
        admin = Actor("bench", is_admin=True)
        writer = await asyncio.to_thread(canvases.writer, canvas.id)
        await asyncio.sleep(3.0)  # the renderer joins (imports, connects, loads the board)
        cpu0, wall0 = benchkit.cpu_ticks(process.pid), time.monotonic()
        tick, sent = 0.02, 0
        while process.poll() is None and time.monotonic() - wall0 < seconds - 4:
            due = int((time.monotonic() - wall0) * rate)
            batch = [writer.submit(Order(admin, PlacePixel(x=int(x), y=int(y), colour=int(c))))
                     for x, y, c in zip(rng.integers(0, SIDE, due - sent),
                                        rng.integers(0, SIDE, due - sent),
                                        rng.integers(0, COLOURS, due - sent), strict=True)]
            sent = due
            await asyncio.gather(*batch)
            await asyncio.sleep(tick)
        cpu1, wall1 = benchkit.cpu_ticks(process.pid), time.monotonic()
        await asyncio.to_thread(process.wait, 60)
        text = log_path.read_text()
        summary = [line for line in text.splitlines() if line.startswith("streamed ")]
        say(f"stream: {summary}")
        return {"stream_cpu_share_of_core": round((cpu1 - cpu0) / (wall1 - wall0), 3),
                "stream_placements_per_s": round(sent / (wall1 - wall0)),
                "stream_summary": summary[-1] if summary else text[-500:]}
    finally:
        await shutdown(node)


async def bench(run: Run, args: argparse.Namespace) -> None:
    import asyncpg
    import msgspec
    import nats

    from api.app import migrate
    from infra.settings import HistorySettings

    settings = await asyncio.to_thread(benchkit.resolve_settings, run)
    run.settings = msgspec.structs.replace(
        settings, history=HistorySettings(keyframe_every=args.keyframe_every,
                                          maps_every=args.maps_every))
    os.environ["TESSERA_HISTORY_KEYFRAME_EVERY"] = str(args.keyframe_every)
    os.environ["TESSERA_HISTORY_MAPS_EVERY"] = str(args.maps_every)
    run.migrated = True
    await migrate(run.settings)
    result = run.result
    # First, while the store is empty: a node's projections would otherwise replay the load.
    result.update(await stream(run, args.stream_seconds, 1600))
    canvas, loaded = await load(run, args.placements, args.load_seconds)
    result.update(loaded)
    pool = await asyncpg.create_pool(run.settings.database_url, min_size=1, max_size=2)
    nc = await nats.connect(run.settings.nats_url, name="bench-history")
    try:
        last = await pool.fetchval(
            f'SELECT max(originator_version) FROM "{run.schema}".canvases_events '
            "WHERE originator_id = $1", canvas.id)
        result.update(await keyframes(run, pool, nc))
        result.update(await snapshots(run, pool, canvas.id, last, args.samples))
        result.update(await export(run, pool))
        result.update(await timelapse(run, pool, canvas, last))
    finally:
        await nc.close()
        await pool.close()


KEYS = ("placements_loaded", "historical_snapshot_p99_ms", "export_parquet_events_per_s", "export_to_copy_ratio",
        "timelapse_60s_720p_seconds", "stream_cpu_share_of_core")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300,000 placements")
    parser.add_argument("--placements", type=int)
    parser.add_argument("--load-seconds", type=float,
                        help="stop loading after the chunk that ends past this many seconds")
    parser.add_argument("--keyframe-every", type=int, default=10_000)
    parser.add_argument("--maps-every", type=int, default=10)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--stream-seconds", type=float, default=24.0)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    args.placements = args.placements or (300_000 if args.quick else 10_000_000)
    run = benchkit.new_run("bench_history", "benchh")
    started = time.perf_counter()
    machine = benchkit.machine()
    error = benchkit.run_guarded(run, bench(run, args), alarm_s=args.timeout)
    result = benchkit.report({k: run.result[k] for k in KEYS if k in run.result}, run, error)
    result["machine"] = machine
    result["params"] = {"placements": args.placements, "load_seconds": args.load_seconds, "canvas": f"{SIDE}x{SIDE}",
                        "keyframe_every": args.keyframe_every,
                        "maps_every": args.maps_every, "samples": args.samples,
                        "stream": "1280x720 30 fps veryfast, 1600 placements/s"}
    result["bench_elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
