"""An event store behind its stream (PostgreSQL restored from a backup, a schema recreated while
the stream was kept): the log publisher stops and says so, naming both positions and the
recovery, and `tessera migrate --reset-stream` recovers."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.app import Node, build, create_app, migrate
from commands.canvas.wire import CreateCanvas
from infra.settings import Settings
from tests.integration.conftest import stop, until
from tests.integration.helpers import max_notification_id
from tests.integration.test_log_publisher import PALETTE, assert_stream_equals_store, place_many
from tests.support import cli

RESET = "tessera migrate --reset-stream"


async def a_canvas_with(parts: Node, placements: int) -> None:
    canvases = parts["canvas"].canvases
    canvas = await asyncio.to_thread(
        canvases.create_canvas, CreateCanvas(width=50, height=1, palette=PALETTE)
    )
    await place_many(canvases, canvas.id, placements)


async def a_store_behind_its_stream(settings: Settings) -> tuple[int, int]:
    """31 canvas events published; then the schema dropped and created again while the stream
    is kept, and 6 events stored anew. Returns the stream's position and the store's."""
    node = await build(settings)
    try:
        await a_canvas_with(node, 30)
        published = await max_notification_id(settings)
        await until(lambda: _published_up_to(node, published))
    finally:
        await stop(node)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'DROP SCHEMA "{settings.schema}" CASCADE')
    finally:
        await conn.close()
    await migrate(settings)
    node = await build(settings, roles={"api"})
    try:
        await a_canvas_with(node, 5)
    finally:
        await stop(node)
    return published, await max_notification_id(settings)


async def _published_up_to(node: Node, position: int) -> bool:
    return node.publisher("canvas").position >= position


async def health(node: Node) -> dict:
    transport = httpx.ASGITransport(app=create_app(node.settings, node=node))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        return (await http.get("/health")).json()


async def test_a_publisher_whose_store_is_behind_the_stream_stops_and_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
):
    published, stored = await a_store_behind_its_stream(settings)
    assert (published, stored) == (31, 6)
    caplog.set_level(logging.ERROR, logger="infra.spine.publisher")
    node = await build(settings)
    try:
        told = await until(lambda: _stopped(node), timeout=10)
    finally:
        await stop(node)
    assert told["status"] == "degraded"
    reason = told["stopped"]["canvas"]
    assert f"ends at notification id {stored}," in reason and f"up to {published} " in reason
    assert RESET in reason
    logged = [r.getMessage() for r in caplog.records if r.name == "infra.spine.publisher"]
    assert any(reason in line for line in logged)


async def test_tessera_publish_exits_naming_the_recovery_when_its_store_is_behind(
    settings: Settings, tmp_path: Path
):
    """A publisher process that stopped publishing must not look alive: it exits (status 1)."""
    await a_store_behind_its_stream(settings)
    publish = await asyncio.to_thread(cli.run, settings, tmp_path, "publish", timeout=60)
    assert publish.returncode == 1
    assert RESET in publish.stdout.splitlines()[-1]


async def _stopped(node: Node) -> dict | None:
    told = await health(node)
    return told if "canvas" in told.get("stopped", {}) else None


async def test_reset_stream_republishes_the_store_and_rebuilds_the_read_models(
    settings: Settings, tmp_path: Path
):
    await a_store_behind_its_stream(settings)
    reset = await asyncio.to_thread(cli.run, settings, tmp_path, "migrate", "--reset-stream")
    assert reset.returncode == 0, reset.stdout
    assert "rebuilt bitmap: 6 events" in reset.stdout
    # Not a terminal: the progress of each step and rebuild as log lines, each to its end.
    assert "migrate: 9 of 9 steps (100.0%)" in reset.stdout, reset.stdout
    assert "rebuild bitmap: 6 of 6 events (100.0%)" in reset.stdout, reset.stdout
    node = await build(settings)
    try:
        await until(lambda: _published_up_to(node, 6))
        told = await health(node)
        await assert_stream_equals_store(node.nc.jetstream(), settings)
    finally:
        await stop(node)
    assert told["status"] == "ok" and "stopped" not in told
