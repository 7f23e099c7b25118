"""Integration tests run against real PostgreSQL and NATS JetStream (`scripts/test` makes sure
both answer). Every settings object gets its own schema and stream names, dropped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import uvicorn

from api.app import Node, build, create_app, migrate, shutdown
from infra.live.socket import uvicorn_options
from infra.settings import CanvasSettings, Settings
from tests.support.ports import free_port
from tests.support.settings import drop_streams, overridden

pytestmark = pytest.mark.integration

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")


async def until(check: Callable[[], Awaitable[Any]], *, timeout: float = 20.0) -> Any:
    """Wait for an eventually consistent read to catch up (never a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting after {timeout} s")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def settings_maker() -> AsyncIterator[Callable[..., Awaitable[Settings]]]:
    """Makes settings with a schema and stream names of their own, migrated; drops them after."""
    created: list[Settings] = []

    async def make(**overrides: Any) -> Settings:
        """Overrides as `overridden` takes them: `make(desk={"ttl_s": 5}, rate_ip_per_s=0)`."""
        run = uuid.uuid4().hex[:10]
        settings = Settings(
            database_url=DATABASE_URL,
            nats_url=NATS_URL,
            schema=f"test_{run}",
            stream_prefix=f"test{run}",
            dev_auth=True,
            canvas=CanvasSettings(writer_linger_ms=1.0),
            # A test machine runs many nodes at once: a pooled connection may take longer than
            # the fail-fast default's 1 s to come. The budget itself is tested by test_pg_outage.
            store_timeout_ms=10_000,
        )
        settings = overridden(settings, **overrides)
        await migrate(settings)
        created.append(settings)
        return settings

    try:
        yield make
    finally:
        for settings in created:
            conn = await asyncpg.connect(DATABASE_URL)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.schema}" CASCADE')
            await conn.close()
            await drop_streams(NATS_URL, settings.stream_prefix)


@pytest_asyncio.fixture
async def make_settings() -> AsyncIterator[Callable[..., Awaitable[Settings]]]:
    async with settings_maker() as make:
        yield make


@pytest_asyncio.fixture
async def settings(make_settings: Callable[..., Awaitable[Settings]]) -> Settings:
    return await make_settings()


async def stop(parts: Node, *, timeout: float = 30.0) -> None:
    """Shut a node down; a shutdown that hangs fails loudly, showing what it waits on."""
    task = asyncio.create_task(shutdown(parts))
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        for other in asyncio.all_tasks():
            other.print_stack(limit=8)
        task.cancel()
        raise AssertionError(f"shutdown took more than {timeout} s")
    task.result()


@pytest_asyncio.fixture
async def parts(settings: Settings) -> AsyncIterator[Node]:
    running = await build(settings)
    yield running
    await stop(running)


@pytest_asyncio.fixture
async def client(parts: Node) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP against the app, in the test's event loop (the parts' pools live there)."""
    transport = httpx.ASGITransport(app=create_app(parts.settings, node=parts))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        yield http


@contextlib.asynccontextmanager
async def serving(parts: Node) -> AsyncIterator[int]:
    """The app on a real uvicorn server on a loopback port (for real WebSockets)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(parts.settings, node=parts), port=port,
                                           log_level="warning", lifespan="off",
                                           **uvicorn_options(parts.settings)))
    task = asyncio.create_task(server.serve())
    await until(lambda: _started(server))
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started
