"""The history's commands of `tessera`: `export`, `stream` and `replay` (`api/cli.py` adds
them to its parser and hands them their arguments)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from api.errors import ApiError
from infra.settings import Settings
from infra.tuning import tune_process

log = logging.getLogger(__name__)

COMMANDS = ("export", "stream", "replay")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser(
        "export", help="every event of a context (or all) as Parquet, CSV or NDJSON"
    )
    export.add_argument(
        "what", help="a context (identity, canvas, feedback, desk, quiz, relay, billiards) or all")
    export.add_argument("--from", dest="start", help="first notification id or ISO time")
    export.add_argument("--to", dest="end", help="last notification id or ISO time")
    export.add_argument("--format", dest="form", default="parquet",
                        choices=("parquet", "csv", "ndjson"))
    export.add_argument("--out", required=True, help="the file to write (- for stdout)")
    stream = sub.add_parser(
        "stream", help="the live stream renderer: a canvas as H.264/AAC video over RTMP"
    )
    stream.add_argument("--canvas", required=True, type=uuid.UUID)
    stream.add_argument(
        "--output", required=True,
        help="rtmp://host/app/KEY (ending in / takes TESSERA_HISTORY_STREAM_KEY), "
        "a file.flv, or hls:DIR",
    )
    stream.add_argument("--width", type=int, default=1280)
    stream.add_argument("--height", type=int, default=720)
    stream.add_argument("--fps", type=int, default=30)
    stream.add_argument("--preset", default="veryfast", help="x264 preset")
    stream.add_argument("--seconds", type=float, help="stop after this long")
    again = sub.add_parser("replay", help="a canvas's history played back as video")
    again.add_argument("--canvas", required=True, type=uuid.UUID)
    again.add_argument("--from", dest="start", default="0", help="version or ISO time (0)")
    again.add_argument("--until", required=True, help="version or ISO time")
    again.add_argument("--speed", type=float, default=60.0, help="times real pace (60)")
    again.add_argument("--output", required=True, help="a file.flv, hls:DIR or rtmp://…")
    again.add_argument("--width", type=int, default=1280)
    again.add_argument("--height", type=int, default=720)
    again.add_argument("--fps", type=int, default=30)


def run(args: argparse.Namespace) -> int:
    """Run one of `COMMANDS`; the exit status."""
    from api.cli import _resolved

    with contextlib.ExitStack() as stack:
        settings = _resolved(args, stack)
        match args.command:
            case "export":
                return _export(settings, args)
            case "stream":
                return _stream(settings, args)
            case "replay":
                return asyncio.run(replay_canvas(settings, args))
    return 2


def _stream(settings: Settings, args: argparse.Namespace) -> int:
    from infra.canvas.board_follower import CanvasMissing
    from infra.canvas.stream_role import stream_canvas

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        # A frame is captured on the loop every 33 ms: a full pass of the collector over the
        # start-up heap (≈100,000 objects: 30–300 ms) made it late; and the encoding thread's
        # bytecode kept the loop waiting for the GIL up to the default 5 ms a turn.
        tune_process()
        try:
            stats = await stream_canvas(
                settings, args.canvas, args.output, stop, width=args.width, height=args.height,
                fps=args.fps, preset=args.preset, seconds=args.seconds)
        except (CanvasMissing, ValueError) as error:
            print(f"tessera stream: {error}", file=sys.stderr)
            return 2
        print(f"streamed {stats.frames} frames ({stats.late} late, the worst by "
              f"{stats.worst_late_s * 1000:.0f} ms; {stats.dropped} dropped; {stats.failures} "
              "reconnects)", file=sys.stderr)
        return 0

    return asyncio.run(main())


async def replay_canvas(settings: Settings, args: argparse.Namespace) -> int:
    """`tessera replay`: versions or times resolved, then the history played into the output."""
    import asyncpg

    from api.export import bound
    from infra.canvas.history_view import HistoryView
    from infra.canvas.replay import replay
    from infra.canvas.stream import Output
    from infra.canvas.view import CanvasView

    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        meta = await CanvasView(pool, settings.schema, ring=1).find_canvas(args.canvas)
        if meta is None:
            print(f"tessera replay: no canvas {args.canvas}", file=sys.stderr)
            return 2
        history = HistoryView(pool, settings.schema)
        versions = []
        for text in (args.start, args.until):
            try:
                value = bound(text, "version")
            except ApiError as error:
                print(f"tessera replay: {error.detail}", file=sys.stderr)
                return 2
            versions.append(value if isinstance(value, int) or value is None
                            else await history.version_at(args.canvas, value))
        start, until = versions[0] or 0, min(versions[1] or meta.version, meta.version)
        try:
            output = Output.parse(args.output, key=settings.history.stream_key)
            done = await replay(history, meta, output, start=start, until=until,
                                speed=args.speed, fps=args.fps, width=args.width,
                                height=args.height)
        except ValueError as error:
            print(f"tessera replay: {error}", file=sys.stderr)
            return 2
        print(f"replayed versions {start} to {done.version} in {done.frames} frames",
              file=sys.stderr)
        return 0
    finally:
        await pool.close()


def _export(settings: Settings, args: argparse.Namespace) -> int:
    import asyncpg

    try:
        rows = asyncio.run(export_to(settings, args.what, args.start, args.end, args.form,
                                     args.out))
    except ApiError as error:
        print(f"tessera export: {error.detail}", file=sys.stderr)
        return 2
    except asyncpg.UndefinedTableError as error:
        print(f"tessera export: the schema {settings.schema!r} of this database has no event "
              f"store ({error}): set TESSERA_SCHEMA and DATABASE_URL to the service's, or run "
              "`tessera migrate` first", file=sys.stderr)
        return 2
    print(f"exported {rows:,} events to {args.out}", file=sys.stderr)
    return 0


async def export_to(
    settings: Settings, what: str, start: str | None, end: str | None, form: str, out: str
) -> int:
    """`tessera export`: the events into a file, a progress bar on a terminal."""
    import asyncpg

    from api.contexts import all_contexts
    from api.export import sources_of, span_of
    from infra.progress import on_stderr
    from infra.spine.export import Sink, export

    sources = sources_of(all_contexts(), what)
    span = span_of(start, end)
    progress, end_progress = on_stderr("export", log)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        with _opened(out) as file:
            rows = await export(pool, settings.schema, sources, span, Sink(file, form),
                                progress=progress)
    finally:
        await pool.close()
        end_progress()
    return rows


@contextlib.contextmanager
def _opened(out: str) -> Iterator[IO[bytes]]:
    """The output file, written under a temporary name beside it and renamed once whole: an
    export that fails leaves no truncated file for a reader to take as the export."""
    if out == "-":
        yield sys.stdout.buffer
        return
    target = Path(out)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "wb") as file:
            yield file
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
