"""Whose `X-Forwarded-For` `tessera api` believes: only the proxies in TESSERA_TRUSTED_PROXIES.
A client that could name its own address would get a fresh per-IP rate-limit bucket each time."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from infra.settings import Settings
from tests.integration.conftest import until
from tests.support.cli import environment, start
from tests.support.ports import free_port


@contextlib.asynccontextmanager
async def tessera_api(
    settings: Settings, tmp_path: Path, **env: str
) -> AsyncIterator[httpx.AsyncClient]:
    """`tessera api` as a deployment runs it, in its own process, on a loopback port: two
    commands an IP, then one a second (so the third in a row is refused)."""
    port = free_port()
    environ = environment(
        settings, tmp_path / "data", TESSERA_RATE_IP_PER_S="1", TESSERA_RATE_IP_BURST="2", **env
    )
    server = start(environ, tmp_path / "api.log", "api", "--port", str(port))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await until(lambda: _answers(http, server), timeout=60)
            yield http
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _answers(http: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> bool:
    assert server.poll() is None, "tessera api exited"
    try:
        return (await http.get("/health")).status_code == 200
    except httpx.TransportError:
        return False


async def command_as(http: httpx.AsyncClient, forwarded_for: str) -> int:
    """Any command counts against the rate limit: a logout with no token will do."""
    response = await http.post(
        "/api/auth/logout", json={}, headers={"X-Forwarded-For": forwarded_for}
    )
    return response.status_code


async def test_a_loopback_client_cannot_pick_its_rate_limit_bucket_by_forwarding(
    settings: Settings, tmp_path: Path
):
    async with tessera_api(settings, tmp_path) as http:
        statuses = [await command_as(http, f"203.0.113.{n}") for n in range(1, 4)]
    assert [status == 429 for status in statuses] == [False, False, True]


async def test_a_trusted_proxy_forwards_each_client_address(settings: Settings, tmp_path: Path):
    async with tessera_api(settings, tmp_path, TESSERA_TRUSTED_PROXIES="127.0.0.1") as http:
        others = [await command_as(http, f"203.0.113.{n}") for n in range(1, 4)]
        same = [await command_as(http, "198.51.100.7") for _ in range(3)]
    assert 429 not in others
    assert [status == 429 for status in same] == [False, False, True]
