"""Load through HTTP at a paced rate with commands resent until answered: a raw keep-alive
HTTP/1.1 client on asyncio streams (a request costs the load generator tens of microseconds,
where httpx costs hundreds), and paced workers for canvas placements and desk ops.

Every command is idempotent (a placement's `op`, a desk op's `client_id` and `client_seq`), so a
worker sends the same one again after a 502/503/504, a broken connection or a timeout until it
gets a 2xx; what was acknowledged is kept in a `Tally` for the caller to check against the
event store."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

RETRY_STATUSES = frozenset({502, 503, 504})


class Unanswered(Exception):
    """A command got no 2xx before the deadline."""


@dataclass
class Tally:
    placements: dict[str, int] = field(default_factory=dict)
    """op → the version its acknowledgement named."""
    desk_acks: dict[str, list[int]] = field(default_factory=dict)
    """desk → every `desk_seq` acknowledged on it (from all its clients)."""
    resends: int = 0
    answers: dict[int, int] = field(default_factory=dict)
    """status → count; 0 for a broken connection or a timeout."""
    latencies: list[float] = field(default_factory=list)
    """Seconds from a command's first send to its 2xx, resends included."""

    def answered(self, status: int) -> None:
        self.answers[status] = self.answers.get(status, 0) + 1


class RawHttp:
    """One keep-alive connection; `request` reconnects when the connection broke."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """(status, body); raises OSError (or a subclass, TimeoutError included) when the
        connection broke, after closing it."""
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self._host}:{self._port}",
                f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        try:
            async with asyncio.timeout(self._timeout):
                reader, writer = await self._connection()
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
                response = await reader.readuntil(b"\r\n\r\n")
                status = int(response[9:12])
                lower = response.lower()
                at = lower.find(b"\r\ncontent-length:")
                length = int(lower[at + 17 : lower.index(b"\r\n", at + 2)]) if at >= 0 else 0
                answer = await reader.readexactly(length)
                if b"\r\nconnection: close" in lower:
                    self.close()
                return status, answer
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as broken:
            self.close()
            raise ConnectionError(f"{type(broken).__name__}: {broken}") from broken

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
            sock = self._writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._reader, self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def until_answered(
    client: RawHttp, tally: Tally, deadline: float, method: str, path: str, body: Any = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """Send until a 2xx (the command is idempotent); any other 4xx/5xx than a failover's
    502/503/504 is a defect and raises."""
    first = time.monotonic()
    while True:
        try:
            status, answer = await client.request(method, path, body, headers)
        except ConnectionError:
            tally.answered(0)
        else:
            tally.answered(status)
            if 200 <= status < 300:
                tally.latencies.append(time.monotonic() - first)
                return answer
            if status not in RETRY_STATUSES:
                raise AssertionError(f"{method} {path} answered {status}: {answer[:300]!r}")
        tally.resends += 1
        if time.monotonic() > deadline:
            raise Unanswered(f"{method} {path} was never answered")
        await asyncio.sleep(0.1)


async def paced(rate_per_worker: float, stop: asyncio.Event, step: Any) -> None:
    """Call `step()` at `rate_per_worker` a second (no faster; slower when a step takes longer)
    until `stop`."""
    interval = 1.0 / rate_per_worker
    next_at = time.monotonic()
    while not stop.is_set():
        await step()
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            next_at = time.monotonic()  # behind: no burst to catch up


async def place_pixels(
    host: str, port: int, canvas_id: str, worker: int, size: int, rate: float,
    tally: Tally, stop: asyncio.Event, deadline: float,
) -> None:
    """One worker placing as its own user on a `size`×`size` canvas, at `rate` a second."""
    client, n = RawHttp(host, port), 0

    async def step() -> None:
        nonlocal n
        n += 1
        op = f"w{worker}-{n}"
        body = {"x": (worker * 7 + n) % size, "y": n % size, "colour": n % 2, "op": op}
        answer = await until_answered(client, tally, deadline, "POST",
                                      f"/api/canvas/{canvas_id}/pixels", body,
                                      {"X-Dev-User": f"u{worker}"})
        tally.placements[op] = json.loads(answer)["version"]

    try:
        await paced(rate, stop, step)
    finally:
        client.close()


async def edit_desk(
    host: str, port: int, desk_name: str, rate: float, tally: Tally, stop: asyncio.Event,
    deadline: float,
) -> None:
    """One desk client (its own `client_id`) moving its own sticker, at `rate` ops a second."""
    client = RawHttp(host, port)
    opened = json.loads(await until_answered(
        client, tally, deadline, "POST", "/api/desk/init",
        {"name": desk_name, "create_new": True}, {"X-Dev-User": "desk-owner"},
    ))
    desk_id, me, key = opened["desk_id"], opened["client_id"], opened["session_key"]
    acks = tally.desk_acks.setdefault(desk_id, [])
    seq = 0

    async def step() -> None:
        nonlocal seq
        seq += 1
        body = {"client_id": me, "client_seq": seq, "sticker": f"s-{me}", "create": seq == 1,
                "stamp": [int(time.time() * 1000), seq, me], "fields": {"x": seq}}
        answer = await until_answered(client, tally, deadline, "POST",
                                      f"/api/desk/{desk_id}/ops", body,
                                      {"X-Desk-Session": key})
        acks.append(json.loads(answer)["desk_seq"])

    try:
        await paced(rate, stop, step)
    finally:
        client.close()
