"""Send, crash, resend: a real `tessera serve` killed with SIGKILL while commands are in flight,
started again on the same schema and stream, and every command it left unanswered sent again.

`resent_after_crash(server, clients, kill_after=n)` drives it; a `Client` is a test's own little
class that knows how to send its commands (several in flight) and how to resend what got no
answer. What "applied exactly once" means is the test's to check, in the event store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import asyncpg
import httpx

from infra.settings import Settings, environment_variables
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER_GONE = (httpx.TransportError, OSError)
"""What a client sees of a server killed under it (over HTTP; a socket's own close is the
`websockets` library's `ConnectionClosed`)."""
NOTHING_SAVED = ("try_again", "unavailable")
"""The 503s after which the same command goes again (after `wait_ms`): nothing was saved."""


def environment_of(settings: Settings) -> dict[str, str]:
    """The `TESSERA_*` variables that make `infra.settings.load()` give back `settings`."""
    env: dict[str, str] = {}
    for path, name in environment_variables().items():
        value: Any = settings
        for part in path.split("."):
            value = getattr(value, part)
        if value is None:
            continue
        env[name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return env


class Server:
    """`tessera serve` of this checkout, in a subprocess on a loopback port, with a test's
    settings; its signing keys in `data_dir`, so that they outlive a restart."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "server.log"
        self._env = {
            **os.environ,
            **environment_of(settings),
            "TESSERA_DATA_DIR": str(data_dir),
            "PYTHONPATH": str(ROOT),  # this checkout's code, whatever the venv was installed from
        }
        self._process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, timeout: float = 60.0) -> None:
        """Start it and wait for `/health`; fails with the log's tail if it exits first."""
        with self.log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "api.cli", "serve",
                "--host", "127.0.0.1", "--port", str(self.port),
                cwd=ROOT, env=self._env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        self.starts += 1
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as http:
            while True:
                if self._process.returncode is not None:
                    raise AssertionError(f"tessera serve exited:\n{self.tail()}")
                with contextlib.suppress(*SERVER_GONE):
                    if (await http.get("/health")).status_code == 200:
                        return
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"no /health after {timeout} s:\n{self.tail()}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL, to the process this started and nothing else: no shutdown, no last words.
        (`Process.kill` signals its own pid, and only while it has not been reaped.)"""
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def wait_exited(self) -> None:
        if self._process is not None:
            await self._process.wait()

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class Counter:
    """Answers as they arrive. At the `kill_after`-th one the server is killed on the spot, or,
    with `at_commit`, armed to be killed as its next batch commits."""

    def __init__(self, server: Server, kill_after: int, *, at_commit: bool = False) -> None:
        self.server, self.kill_after, self.at_commit = server, kill_after, at_commit
        self.answers = 0
        self.armed = False
        self.killed = asyncio.Event()

    def answered(self) -> None:
        self.answers += 1
        if self.answers == self.kill_after:
            if self.at_commit:
                self.armed = True
            else:
                self.kill()

    def committed(self, *_: object) -> None:
        if self.armed:
            self.kill()

    def kill(self) -> None:
        self.server.kill()
        self.killed.set()


class Client(Protocol):
    async def send(self, url: str, counter: Counter) -> None:
        """Send every command with several in flight, calling `counter.answered()` for each
        answer; return once all are answered or the server is gone (without retrying)."""

    async def resend(self, url: str) -> None:
        """On a new connection, send again every command that got no answer, until each has
        one (a `try_again` is sent again too)."""


async def resent_after_crash(
    server: Server,
    clients: Sequence[Client],
    *,
    kill_after: int,
    at_commit_to: str | None = None,
    timeout: float = 30.0,
) -> int:
    """With `server` running: every client sends at once; the server is killed with SIGKILL as
    the `kill_after`-th answer arrives, or, given an events table, as the next batch is committed
    to it after that answer (its NOTIFY): the node then dies between committing commands and
    answering them, which is when a resend must be recognised. (The channel is the table's name,
    shared by every schema of the database: another test's commit, once armed, may fire it.)
    It starts again on the same schema and stream, and every client resends what was not
    answered. Returns how many answers came before the kill."""
    counter = Counter(server, kill_after, at_commit=at_commit_to is not None)
    listening = None
    if at_commit_to is not None:
        listening = await asyncpg.connect(server.settings.database_url)
        await listening.add_listener(at_commit_to, counter.committed)
    sending = [asyncio.create_task(client.send(server.url, counter)) for client in clients]
    try:
        await asyncio.wait_for(counter.killed.wait(), timeout)
        await asyncio.wait_for(asyncio.gather(*sending), timeout)
    finally:
        for task in sending:
            task.cancel()
        server.kill()  # whatever happened, the next start is a restart after a crash
        if listening is not None:
            await listening.close()
    await server.wait_exited()
    answered_before = counter.answers
    await server.start()
    await asyncio.wait_for(asyncio.gather(*(client.resend(server.url) for client in clients)),
                           timeout)
    return answered_before


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


class HttpCommands:
    """A client of commands over HTTP, `in_flight` at once (each on a keep-alive connection of
    its own); `answers` maps each answered command's key to its status and JSON body. A 503 that
    saved nothing is no answer: the command goes again with the resend."""

    def __init__(self, commands: Mapping[str, Request], *, in_flight: int) -> None:
        self.commands = dict(commands)
        self.in_flight = in_flight
        self.answers: dict[str, tuple[int, Any]] = {}

    def unanswered(self) -> list[str]:
        return [key for key in self.commands if key not in self.answers]

    async def send(self, url: str, counter: Counter) -> None:
        await self._send(url, counter.answered, retry=False)

    async def resend(self, url: str) -> None:
        await self._send(url, lambda: None, retry=True)

    async def _send(self, url: str, answered: Any, *, retry: bool) -> None:
        slots = asyncio.Semaphore(self.in_flight)
        gone = asyncio.Event()
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:

            async def one(key: str) -> None:
                command = self.commands[key]
                async with slots:
                    while not gone.is_set():
                        try:
                            response = await http.request(
                                command.method, command.path, json=command.json,
                                headers=dict(command.headers),
                            )
                        except SERVER_GONE:
                            gone.set()
                            return
                        body = response.json() if response.content else None
                        if response.status_code == 503 and body["error"] in NOTHING_SAVED:
                            if not retry:
                                return
                            await asyncio.sleep(body.get("wait_ms", 100) / 1000)
                            continue
                        assert key not in self.answers, f"{key} answered twice"
                        self.answers[key] = (response.status_code, body)
                        answered()
                        return

            await asyncio.gather(*(one(key) for key in self.unanswered()))
