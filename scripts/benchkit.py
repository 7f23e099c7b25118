"""What every benchmark script does around its measurements: a run's own schema and stream
prefix, `tessera` in subprocesses (one `serve`, or split roles), a load generator subprocess,
and the clean-up that undoes it all, even on failure.

Used by scripts/bench_canvas.py, scripts/load_canvas.py, scripts/bench_desk.py and
scripts/bench_auth.py (scripts/ is on sys.path when one of them runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile_ms(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    import numpy as np

    return round(float(np.percentile(np.asarray(samples), q)) * 1000, 3)


try:  # resolved here, not in the forked child (no imports between fork and exec)
    import ctypes

    _prctl: Any = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (ImportError, OSError, AttributeError):
    _prctl = None


def die_with_parent() -> None:
    """In a child, before exec: get SIGTERM when the bench process dies, however it dies."""
    if _prctl is not None:
        _prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def cpu_ticks(pid: int | None = None) -> float:
    """CPU seconds: of a process (user + system), or busy across the machine (pid None)."""
    hz = os.sysconf("SC_CLK_TCK")
    try:
        if pid is None:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
            return (sum(fields[:8]) - fields[3] - fields[4]) / hz  # all but idle and iowait
        with open(f"/proc/{pid}/stat") as f:
            after_name = f.read().rpartition(")")[2].split()  # from field 3 (state) on
        return (int(after_name[11]) + int(after_name[12])) / hz
    except (OSError, ValueError, IndexError):
        return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, Any]:
    """The machine as the run found it (every figure depends on its cores and its load)."""
    return {"cores": os.cpu_count(), "loadavg_at_start": [round(v, 2) for v in os.getloadavg()]}


# -- the run --------------------------------------------------------------------------------------


@dataclass
class Run:
    """What the run started or created, for the clean-up to undo."""

    tmp: Path
    schema: str
    prefix: str
    settings: Any = None
    embedded: Any = None
    server: subprocess.Popen[bytes] | None = None
    server_log: Path | None = None
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)  # see start_split
    loadgen: asyncio.subprocess.Process | None = None
    migrated: bool = False
    result: dict[str, Any] = field(default_factory=dict)
    stream_created: bool = False
    notes: list[str] = field(default_factory=list)

    def processes(self) -> list[subprocess.Popen[bytes]]:
        """The `tessera` processes running for the run."""
        return [p for p in (self.server, *self.helpers) if p is not None]


def new_run(script: str, name: str) -> Run:
    """A run with a temporary directory `<script>_<tag>_…` and schema and stream prefix
    `<name>_<tag>`, made up for it (a random tag: runs side by side do not meet)."""
    tag = secrets.token_hex(4)
    return Run(
        tmp=Path(tempfile.mkdtemp(prefix=f"{script}_{tag}_")),
        schema=f"{name}_{tag}",
        prefix=f"{name}_{tag}",
    )


def resolve_settings(run: Run) -> Any:
    """The run's settings: DATABASE_URL / NATS_URL, else the local defaults, else embedded
    services when one of those is unreachable (`infra.embedded`)."""
    from infra.settings import Settings

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    nats_url = os.environ.get("NATS_URL") or DEFAULT_NATS_URL
    settings = Settings(
        database_url=database_url,
        nats_url=nats_url,
        data_dir=run.tmp / "data",
        schema=run.schema,
        stream_prefix=run.prefix,
        dev_auth=True,
    )
    try:
        from infra.embedded import EmbeddedServices, nats_reachable, postgres_reachable, resolve
    except ImportError as error:
        say(f"infra.embedded not usable ({error}): using {database_url} and {nats_url} as they are")
        return settings
    if postgres_reachable(database_url) and nats_reachable(nats_url):
        return settings
    say("a service is unreachable: starting embedded ones")
    run.embedded = EmbeddedServices(run.tmp / "services")
    return resolve(settings, run.embedded)


class Aborted(BaseException):
    pass


def _abort(signum: int, frame: Any) -> None:
    raise Aborted(signal.Signals(signum).name)


def run_guarded(
    run: Run, work: Coroutine[Any, Any, None], *, alarm_s: float, keep_log: Path | None = None
) -> BaseException | None:
    """Runs `work` (which fills `run.result`) until it ends, fails, or SIGTERM or the alarm
    after `alarm_s` stops it; then, whatever happened, keeps a copy of the server's log at
    `keep_log` if asked and undoes what the run made. Returns the failure, said on stderr with
    the server log's tail, for the caller to report beside what was measured before it."""
    signal.signal(signal.SIGTERM, _abort)
    signal.signal(signal.SIGALRM, _abort)
    signal.alarm(int(alarm_s))
    error: BaseException | None = None
    try:
        asyncio.run(work)
    except (Exception, Aborted, KeyboardInterrupt) as failure:  # noqa: BLE001 -- reported
        error = failure
        say(f"FAILED: {error!r}")
        if run.server_log is not None and run.server_log.exists():
            say(f"server log tail:\n{log_tail(run.server_log)}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if keep_log is not None and run.server_log is not None:
            with contextlib.suppress(OSError):
                shutil.copyfile(run.server_log, keep_log)
        drop_everything(run)
    return error


def report(headline: dict[str, Any], run: Run, error: BaseException | None) -> dict[str, Any]:
    """The JSON line's start: the headline figures, then all that was measured, then the
    failure if there was one."""
    result = dict(headline)
    result.update(run.result)
    if error is not None:
        result["error"] = repr(error)[:1000]
    return result


# -- the server -----------------------------------------------------------------------------------


def http_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout=10.0
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout\w*)(:|$)")


def server_log_errors(path: Path | None) -> dict[str, int]:
    """The server's logged errors, counted: `ERROR` records and the exceptions they end with."""
    counts: dict[str, int] = {}
    if path is None or not path.exists():
        return counts
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("ERROR") or " ERROR " in line[:40]:
            key = "ERROR " + line.rsplit(" - ", 1)[-1][:120]
        elif _EXCEPTION_LINE.match(line):
            key = line[:120]
        else:
            continue
        counts[key] = counts.get(key, 0) + 1
    return counts


def log_tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def tessera_command() -> str:
    """The `tessera` command of this checkout's venv (else of the running interpreter's)."""
    tessera = ROOT / ".venv" / "bin" / "tessera"
    if not tessera.exists():
        tessera = Path(sys.executable).parent / "tessera"
    return str(tessera)


def tessera_env(run: Run) -> dict[str, str]:
    """The environment of every `tessera` process of the run: this process's environment, plus
    the run's services, schema and stream prefix, dev auth and no rate limits."""
    env = dict(os.environ)
    env.update(
        TESSERA_DATABASE_URL=run.settings.database_url,
        TESSERA_NATS_URL=run.settings.nats_url,
        TESSERA_SCHEMA=run.schema,
        TESSERA_STREAM_PREFIX=run.prefix,
        TESSERA_DEV_AUTH="1",
        # Throughput, not policy: all the load comes from one IP, and the token buckets (20
        # commands and 50 reads a second an IP, 5/s an account by default) would refuse nearly
        # all of it.
        TESSERA_RATE_IP_PER_S="0",
        TESSERA_RATE_READ_IP_PER_S="0",
        TESSERA_RATE_ACCOUNT_PER_S="0",
        TESSERA_DATA_DIR=str(run.tmp / "server-data"),
    )
    return env


def spawn(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A subprocess that dies with the bench, its stdout and stderr in `log_path`."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=die_with_parent,  # noqa: PLW1509 -- only a pre-resolved prctl call
        )


async def wait_healthy(run: Run, port: int, log: Path, timeout: float) -> None:
    """Until GET /health on `port` answers 200; fails, with the tail of `log`, as soon as one
    of the run's processes exits, or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        for process in run.processes():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{process.args!r} exited ({process.returncode}):\n{log_tail(log)}"
                )
        with contextlib.suppress(OSError):
            status, _ = await asyncio.to_thread(
                http_json, "GET", f"http://127.0.0.1:{port}/health", timeout=2.0
            )
            if status == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"no /health 200 after {timeout:.0f} s:\n{log_tail(log)}")
        await asyncio.sleep(0.2)


BENCH_SERVER = [sys.executable, str(ROOT / "scripts" / "bench_server.py")]
"""`tessera` with the bare baseline route beside the real ones (`scripts/bench_server.py`)."""


async def start_server(
    run: Run, port: int, timeout: float = 90.0, *, command: list[str] | None = None
) -> None:
    """`tessera serve` (every role in one process; `command` instead of `tessera`) as
    `run.server`, up once /health says so."""
    run.server_log = run.tmp / "server.log"
    run.server = spawn(
        [*(command or [tessera_command()]), "serve", "--host", "127.0.0.1", "--port", str(port)],
        tessera_env(run),
        run.server_log,
    )
    run.stream_created = True  # the server creates it at start
    await wait_healthy(run, port, run.server_log, timeout)


async def start_split(
    run: Run, ports: list[int], timeout: float = 90.0, *, command: list[str] | None = None
) -> None:
    """`tessera migrate`, then `tessera relay` and `tessera project` in processes of their own,
    then a `tessera api` node a port (`command api …` instead of `tessera api …`), each up
    before the next: the API nodes' event loops do only the sockets and the writers. The first
    node is `run.server`; `run.helpers` holds the relay, the projector and the other nodes, in
    that order."""
    env = tessera_env(run)
    tessera = tessera_command()
    run.stream_created = True  # the migration creates it
    migrated = await asyncio.to_thread(
        subprocess.run, [tessera, "migrate"], env=env, cwd=ROOT, capture_output=True, timeout=120
    )
    if migrated.returncode != 0:
        raise RuntimeError(
            f"tessera migrate failed: {migrated.stderr.decode(errors='replace')[-2000:]}"
        )
    for role in ("publish", "project"):
        run.helpers.append(spawn([tessera, role], env, run.tmp / f"{role}.log"))
    run.server_log = run.tmp / "server.log"
    for index, port in enumerate(ports):
        log = run.server_log if index == 0 else run.tmp / f"api-{index}.log"
        node = spawn(
            [*(command or [tessera]), "api", "--host", "127.0.0.1", "--port", str(port)], env, log
        )
        if index == 0:
            run.server = node
        else:
            run.helpers.append(node)
        await wait_healthy(run, port, log, timeout)


def stop_server(run: Run, timeout: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after `timeout`; whether it exited on SIGTERM."""
    server, run.server = run.server, None
    if server is None or server.poll() is not None:
        return True
    server.terminate()
    try:
        server.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)
        return False


def stop_helpers(run: Run, timeout: float = 10.0) -> None:
    """SIGTERM to every helper at once, then SIGKILL to any still there after `timeout`."""
    helpers, run.helpers = run.helpers, []
    for helper in helpers:
        helper.terminate()
    for helper in helpers:
        try:
            helper.wait(timeout)
        except subprocess.TimeoutExpired:
            helper.kill()


# -- the load generator ---------------------------------------------------------------------------


async def run_loadgen(run: Run, script: str, params: dict[str, Any], timeout: float) -> Any:
    """Runs `script --loadgen '<params as JSON>'` in a subprocess that dies with this one, and
    returns the JSON line it prints last; kills it after `timeout` seconds."""
    run.loadgen = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(script).resolve()),
        "--loadgen",
        json.dumps(params),
        stdout=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    try:
        out, _ = await asyncio.wait_for(run.loadgen.communicate(), timeout)
    finally:
        if run.loadgen.returncode is None:
            run.loadgen.kill()
            await run.loadgen.wait()
        code, run.loadgen = run.loadgen.returncode, None
    if code != 0 or not out.strip():
        raise RuntimeError(f"the load generator failed ({code})")
    return json.loads(out.strip().splitlines()[-1])


def loadgen_main(
    loadgen: Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]],
    params: dict[str, Any],
) -> None:
    """The load generator subprocess's body (`--loadgen`): as many open files as allowed (a
    socket each), uvloop when it is installed, then `loadgen(params)`'s figures as one JSON
    line on stdout, for `run_loadgen` to read."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    print(json.dumps(asyncio.run(loadgen(params))), flush=True)


# -- the clean-up ---------------------------------------------------------------------------------


def drop_everything(run: Run) -> None:
    """Undo what the run made: best effort, each step on its own."""
    if run.loadgen is not None and run.loadgen.returncode is None:
        with contextlib.suppress(Exception):
            run.loadgen.kill()
    with contextlib.suppress(Exception):
        stop_server(run, timeout=5.0)
    with contextlib.suppress(Exception):
        stop_helpers(run)
    settings = run.settings
    if settings is not None and run.migrated:
        try:
            import psycopg
            from psycopg import sql

            with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10) as c:
                c.execute("SET lock_timeout = '20s'")
                c.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(run.schema))
                )
            say(f"dropped schema {run.schema}")
        except Exception as error:  # noqa: BLE001 -- best effort, reported
            say(f"could not drop schema {run.schema}: {error!r}")
    # A migration makes the events stream, an API node its KV buckets (presence, used tickets):
    # every stream under the run's prefix goes, KV buckets included.
    if settings is not None and (run.stream_created or run.migrated):
        try:
            asyncio.run(asyncio.wait_for(_drop_streams(settings.nats_url, run.prefix), 30))
        except Exception as error:  # noqa: BLE001 -- best effort, reported
            say(f"could not delete the streams of {run.prefix}: {error!r}")
    if run.embedded is not None:
        with contextlib.suppress(Exception):
            run.embedded.stop()
    shutil.rmtree(run.tmp, ignore_errors=True)


async def _drop_streams(nats_url: str, prefix: str) -> None:
    """Every stream the server made under the run's prefix (events, KV buckets …), and with
    them their consumers: as the tests drop theirs."""
    from tests.support.settings import drop_streams

    for name in await drop_streams(nats_url, prefix):
        say(f"deleted stream {name}")
