"""`tessera`: run the whole service, or one of its roles, or a maintenance task."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from api.history_cli import COMMANDS as HISTORY_COMMANDS
from api.history_cli import add_commands as add_history_commands
from api.history_cli import run as run_history_command
from infra import logs
from infra import settings as settings_module
from infra.progress import Bar, on_stderr
from infra.settings import Settings
from infra.tuning import tune_process

log = logging.getLogger(__name__)


def _resolved(args: argparse.Namespace, stack: contextlib.ExitStack) -> Settings:
    from infra.embedded import EmbeddedServices, resolve

    settings = settings_module.load()
    services = stack.enter_context(EmbeddedServices(settings.data_dir / "services"))
    return resolve(settings, services)


def _serve(args: argparse.Namespace, roles: frozenset[str]) -> None:
    import uvicorn

    from api.app import create_app, migrate
    from infra.live.socket import uvicorn_options

    with contextlib.ExitStack() as stack:
        settings = _resolved(args, stack)
        if "publisher" in roles:  # the single-process `serve`; split roles expect `tessera migrate`
            asyncio.run(migrate(settings))
        host = args.host or settings.host
        port = args.port or settings.port
        tune_process()
        print(f"Tessera is serving on http://{host}:{port}/  (API schema: /schema)", flush=True)
        uvicorn.run(
            create_app(settings, roles=roles),
            host=host,
            port=port,
            log_level="warning",
            **uvicorn_options(settings),
        )


def _background(args: argparse.Namespace, roles: frozenset[str]) -> None:
    from api.app import build, shutdown

    async def run(settings: Settings) -> str | None:
        """Runs until asked to stop, or until a log publisher stops by itself: returns why."""
        parts = await build(settings, roles)
        tune_process()
        if args.rebuild:
            for runner in parts.runners:
                progress, end = _rebuild_bar(runner.model.name)
                try:
                    applied = await runner.rebuild(progress=progress)
                finally:
                    end()
                print(f"rebuilt {runner.model.name}: {applied} events", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"running {', '.join(sorted(roles))}", flush=True)
        ops = _ops_server(parts, settings)
        waits: list[asyncio.Task[Any]] = [asyncio.create_task(stop.wait())]
        waits += [asyncio.create_task(publisher.halted()) for publisher in parts.publishers]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        if ops is not None:
            server, serving = ops
            server.should_exit = True
            await serving
        await shutdown(parts)
        halted = [str(p.stopped_by) for p in parts.publishers if p.stopped_by is not None]
        return "; ".join(halted) or None

    with contextlib.ExitStack() as stack, asyncio.Runner(loop_factory=_loop_factory()) as runner:
        failure = runner.run(run(_resolved(args, stack)))
    if failure is not None:
        sys.exit(failure)  # exit status 1, the reason on stderr


def _ops_server(node: Any, settings: Settings) -> tuple[Any, asyncio.Task[None]] | None:
    """`/metrics`, `/healthz` and `/readyz` of a background role, on `TESSERA_METRICS_PORT`."""
    if not settings.metrics_port:
        return None
    import uvicorn

    from api.app import ops_app

    config = uvicorn.Config(
        ops_app(node), host=settings.host, port=settings.metrics_port, log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    print(f"metrics on http://{settings.host}:{settings.metrics_port}/metrics", flush=True)
    return server, asyncio.create_task(server.serve(), name="ops-server")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (it comes with uvicorn's standard extras), as `serve` has
    under uvicorn: the log publisher and the projections move thousands of messages a second."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _rebuild_bar(name: str) -> Bar:
    return on_stderr(f"rebuild {name}", log)


def _migrate(args: argparse.Namespace) -> None:
    from api.app import migrate, reset_stream

    with contextlib.ExitStack() as stack:
        settings = _resolved(args, stack)
        progress, end = on_stderr("migrate", log, unit="steps")
        try:
            asyncio.run(migrate(settings, progress))
        finally:
            end()
        print("schema ready", flush=True)
        if args.reset_stream:
            for name, count in asyncio.run(reset_stream(settings, _rebuild_bar)).items():
                print(f"rebuilt {name}: {count} events", flush=True)
            print(
                f"stream {settings.events_stream} emptied: the log publishers publish the event "
                "store again from its first event",
                flush=True,
            )


def _dead_letters(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        settings = _resolved(args, stack)
        return asyncio.run(
            dead_letters(settings, replay=args.replay, projection=args.projection, wait_s=args.wait)
        )


async def dead_letters(
    settings: Settings,
    *,
    replay: bool = False,
    projection: str | None = None,
    wait_s: float = 60.0,
    say: Callable[[str], None] = print,
) -> int:
    """List the dead letters not replayed yet; or ask the projections to replay them and say how
    each went. The runner owning the read model replays (its memory must see the change), so a
    projector (`tessera project` or `serve`) must be running. Returns the exit status."""
    import asyncpg

    from infra.spine.dead_letters import DeadLetters

    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        letters = DeadLetters(pool, settings.schema)
        if not replay:
            waiting = await letters.list_dead_letters(projection)
            for letter in waiting:
                say(
                    f"{letter.projection} #{letter.notification_id} {letter.topic} "
                    f"{letter.originator_id} v{letter.originator_version}, failed "
                    f"{letter.failed_at:%Y-%m-%d %H:%M:%S %Z}: {letter.error}"
                )
            say(f"{len(waiting)} dead letter(s) not replayed")
            return 0
        asked = await letters.request_replay(projection)
        if not asked:
            say("no dead letter to replay")
            return 0
        say(f"asked the projections to replay {len(asked)} dead letter(s); waiting up to "
            f"{wait_s:.0f} s")
        deadline = time.monotonic() + wait_s
        while True:
            answered = await letters.list_by_keys(asked)
            if time.monotonic() > deadline or all(
                letter.replay_requested_at is None for letter in answered
            ):
                break
            await asyncio.sleep(0.5)
        failed = 0
        for letter in answered:
            key = f"{letter.projection} #{letter.notification_id}"
            if letter.replayed_at is not None:
                say(f"{key}: replayed")
                continue
            failed += 1
            if letter.replay_requested_at is None:
                say(f"{key}: still failing, kept: {letter.error}")
            else:
                say(f"{key}: not taken up yet (is `tessera project` or `serve` running?); "
                    "the request stands")
        return 1 if failed else 0
    finally:
        await pool.close()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # uvicorn re-raises the signal it stopped on: unwind (stopping the embedded services)
    # rather than die on the spot.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        settings = settings_module.load()
        logs.configure(settings.log_format, access_log=settings.access_log)
    except settings_module.SettingsError:  # told again, naming the variable, when it is read
        logs.configure("plain")
    parser = argparse.ArgumentParser(prog="tessera")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("serve", "everything in one process: API, log publisher, projections, writers"),
        ("api", "an API node (with its writers)"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--host")
        command.add_argument("--port", type=int)
    # `relay` is the publisher's name before the relay-rooms context; kept for one release.
    sub.add_parser(
        "publish", aliases=["relay"], help="the log publisher: notification logs to JetStream"
    )
    project = sub.add_parser("project", help="the projections")
    project.add_argument("--rebuild", action="store_true", help="rebuild from the event store")
    migrate = sub.add_parser("migrate", help="create the schema, tables and stream, then exit")
    migrate.add_argument(
        "--reset-stream",
        action="store_true",
        help="then empty the stream and rebuild the read models from the event store: the "
        "recovery when the event store is behind the stream (a restored backup, a recreated "
        "schema); stop the log publisher and the projections first",
    )
    letters = sub.add_parser(
        "dead-letters", help="list the events the projections set aside, or replay them"
    )
    letters.add_argument(
        "--replay", action="store_true",
        help="apply them again (after a fix), through the running projections",
    )
    letters.add_argument("--projection", help="only this read model's (e.g. feedback)")
    letters.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for the replays (default 60)"
    )
    add_history_commands(sub)
    args = parser.parse_args(argv)
    args.rebuild = getattr(args, "rebuild", False)
    args.reset_stream = getattr(args, "reset_stream", False)
    match args.command:
        case "serve":
            _serve(args, frozenset({"api", "publisher", "projections"}))
        case "api":
            _serve(args, frozenset({"api"}))
        case "publish" | "relay":
            _background(args, frozenset({"publisher"}))
        case "project":
            _background(args, frozenset({"projections"}))
        case "migrate":
            _migrate(args)
        case "dead-letters":
            sys.exit(_dead_letters(args))
        case command if command in HISTORY_COMMANDS:
            sys.exit(run_history_command(args))


if __name__ == "__main__":
    main(sys.argv[1:])
