"""A rolling restart: on SIGTERM a web node stops accepting, answers what it has in flight, tells
its live sockets to reconnect elsewhere (1012 service restart) and exits in time."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest
import websockets

from api.app import migrate
from infra.settings import Settings
from tests.integration.conftest import until
from tests.support import cli
from tests.support.ports import free_port

ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}
PLAYER = {"X-Dev-User": "ann"}


@pytest.mark.crash
async def test_sigterm_closes_live_sockets_with_1012_and_exits_within_the_timeout(
    settings: Settings, tmp_path: Path
):
    await migrate(settings)
    port = free_port()
    environ = cli.environment(
        settings, tmp_path, TESSERA_DEV_AUTH="1", TESSERA_SHUTDOWN_TIMEOUT_S="5"
    )
    log = tmp_path / "api.log"
    process = cli.start(environ, log, "serve", "--host", "127.0.0.1", "--port", str(port))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def ready() -> bool:
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await until(ready, timeout=60)
            created = await http.post(
                "/api/canvas",
                json={"width": 8, "height": 8, "palette": ["#000000", "#ffffff"], "cooldown_ms": 0},
                headers=ADMIN,
            )
            canvas_id = created.json()["id"]

            async def projected() -> bool:
                return (await http.get(f"/api/canvas/{canvas_id}")).status_code == 200

            await until(projected, timeout=30)
            url = f"ws://127.0.0.1:{port}/api/canvas/{canvas_id}/live"
            async with websockets.connect(url, additional_headers=PLAYER) as socket:
                await socket.recv()  # its first frame: the socket is being served
                placing = asyncio.create_task(
                    http.post(f"/api/canvas/{canvas_id}/pixels",
                              json={"x": 1, "y": 1, "colour": 1}, headers=PLAYER)
                )
                await asyncio.sleep(0)
                sent_at = time.monotonic()
                process.send_signal(signal.SIGTERM)
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    async with asyncio.timeout(5):
                        while True:
                            await socket.recv()
                placed = await placing
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
            assert placed.status_code in (200, 503), placed.text  # answered, never dropped
        exit_code = await asyncio.to_thread(process.wait, 15)
        elapsed = time.monotonic() - sent_at
    finally:
        if process.poll() is None:
            process.kill()
    assert elapsed < 5 + 5, log.read_text()  # the timeout, and the shutdown of the writers
    assert exit_code in (0, 128 + signal.SIGTERM, -signal.SIGTERM), log.read_text()
