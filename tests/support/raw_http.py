"""A raw keep-alive HTTP/1.1 client on asyncio streams (a request costs a load generator tens of
microseconds, where httpx costs hundreds), and `until_answered`: an idempotent request sent
again after a 502/503/504, a broken connection or a timeout until it gets a 2xx."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

RETRY_STATUSES = frozenset({502, 503, 504})


class Unanswered(Exception):
    """A command got no 2xx before the deadline."""


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
    client: RawHttp, deadline: float, method: str, path: str, body: Any = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """Send until a 2xx (the request is idempotent); any other 4xx/5xx than a failover's
    502/503/504 is a defect and raises."""
    while True:
        try:
            status, answer = await client.request(method, path, body, headers)
        except ConnectionError:
            pass
        else:
            if 200 <= status < 300:
                return answer
            if status not in RETRY_STATUSES:
                raise AssertionError(f"{method} {path} answered {status}: {answer[:300]!r}")
        if time.monotonic() > deadline:
            raise Unanswered(f"{method} {path} was never answered")
        await asyncio.sleep(0.1)
