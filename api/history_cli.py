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
from typing import IO

from api.errors import ApiError
from infra.settings import Settings

log = logging.getLogger(__name__)

COMMANDS = ("export", "stream")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser(
        "export", help="every event of a context (or all) as Parquet, CSV or NDJSON"
    )
    export.add_argument("what", help="canvas, desk, feedback, identity or all")
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
    return 2


def _stream(settings: Settings, args: argparse.Namespace) -> int:
    from infra.canvas.board_follower import CanvasMissing
    from infra.canvas.stream_role import stream_canvas

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            stats = await stream_canvas(
                settings, args.canvas, args.output, stop, width=args.width, height=args.height,
                fps=args.fps, preset=args.preset, seconds=args.seconds)
        except (CanvasMissing, ValueError) as error:
            print(f"tessera stream: {error}", file=sys.stderr)
            return 2
        print(f"streamed {stats.frames} frames ({stats.late} late, {stats.failures} "
              "reconnects)", file=sys.stderr)
        return 0

    return asyncio.run(main())


def _export(settings: Settings, args: argparse.Namespace) -> int:
    try:
        rows = asyncio.run(export_to(settings, args.what, args.start, args.end, args.form,
                                     args.out))
    except ApiError as error:
        print(f"tessera export: {error.detail}", file=sys.stderr)
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
    from infra.spine.export import Sink, export, reporter

    sources = sources_of(all_contexts(), what)
    span = span_of(start, end)
    tty = sys.stderr.isatty()

    def say(text: str) -> None:
        if tty:
            sys.stderr.write(text)
            sys.stderr.flush()
        else:
            log.info("%s", text)

    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        with _opened(out) as file:
            rows = await export(pool, settings.schema, sources, span, Sink(file, form),
                                progress=reporter(say, tty=tty))
    finally:
        await pool.close()
    if tty:
        sys.stderr.write("\n")
    return rows


@contextlib.contextmanager
def _opened(out: str) -> Iterator[IO[bytes]]:
    if out == "-":
        yield sys.stdout.buffer
        return
    with open(out, "wb") as file:
        yield file
