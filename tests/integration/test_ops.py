"""`/metrics`, `/healthz` and `/readyz`: what Prometheus and a load balancer ask a node."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import websockets
from prometheus_client.parser import text_string_to_metric_families

from api.app import Node, build, create_app, migrate
from infra.live.socket import LIVE_SOCKETS
from infra.settings import Settings
from infra.spine.probe import DatabaseProbe
from tests.integration.conftest import serving, stop, until
from tests.support import cli
from tests.support.ports import free_port

PLAYER = {"X-Dev-User": "ann"}
ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}
PALETTE = ["#000000", "#ffffff"]
PLACE_ROUTE = "/api/canvas/{canvas_id}/pixels"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


async def test_metrics_count_requests_refusals_and_the_spines_progress(
    client: httpx.AsyncClient, parts: Node
):
    created = await client.post(
        "/api/canvas", json={"width": 8, "height": 8, "palette": PALETTE, "cooldown_ms": 0}, headers=ADMIN
    )
    canvas_id = created.json()["id"]
    for x in range(3):
        placed = await client.post(
            f"/api/canvas/{canvas_id}/pixels", json={"x": x, "y": 0, "colour": 1}, headers=PLAYER
        )
        assert placed.status_code == 200, placed.text
    refused = await client.post(
        f"/api/canvas/{canvas_id}/pixels", json={"x": 99, "y": 0, "colour": 1}, headers=PLAYER
    )
    assert refused.status_code >= 400
    code = refused.json()["error"]

    async def caught_up() -> str | None:
        text = (await client.get("/metrics")).text
        lag = value(text, "tessera_projection_lag_events", projection="bitmap")
        published = value(text, "tessera_publisher_events_total", context="canvas")
        return text if lag == 0 and published is not None and published >= 4 else None

    text = await until(caught_up, timeout=30)
    assert value(text, "tessera_http_requests_total",
                 route=PLACE_ROUTE, method="POST", status="200") == 3
    assert value(text, "tessera_http_request_duration_seconds_count",
                 route=PLACE_ROUTE, method="POST") == 4
    # Beside this app's one HTTP refusal, the process's sockets' (other tests' in this worker).
    on_sockets = LIVE_SOCKETS.refused["canvas", code]
    assert value(text, "tessera_refusals_total", context="canvas", code=code) == 1 + on_sockets
    assert value(text, "tessera_publisher_lag_events", context="canvas") == 0
    applied = value(text, "tessera_projection_events_total", projection="bitmap")
    assert applied is not None and applied >= 4
    batches = value(text, "tessera_projection_batches_total", projection="bitmap")
    assert batches is not None and 1 <= batches <= applied
    assert value(text, "tessera_projection_lag_seconds", projection="bitmap") == 0
    assert value(text, "tessera_projection_dead_letters_total", projection="bitmap") == 0
    assert value(text, "tessera_nats_reconnects_total") == 0
    saves = value(text, "tessera_writer_saves_total", application="Canvases")
    decided = value(text, "tessera_writer_commands_total", application="Canvases")
    assert saves is not None and decided is not None and decided >= saves >= 1  # per process
    commits = value(text, "tessera_writer_commit_seconds_count", application="Canvases")
    under_inf = value(text, "tessera_writer_commit_seconds_bucket", application="Canvases",
                      le="+Inf")
    took = value(text, "tessera_writer_commit_seconds_sum", application="Canvases")
    assert commits == under_inf == saves and took is not None and took > 0
    assert value(text, "tessera_canvas_players") == 1  # the one player, admitted on placing
    assert value(text, "tessera_canvas_queue_length") == 0
    assert value(text, "tessera_relay_rooms") == 0
    assert value(text, "tessera_billiards_queue_length") == 0
    for name, labels in samples(text):
        assert not any("-" in v and len(v) == 36 for _, v in labels), f"an id as a label: {name}"


async def test_healthz_lives_and_readyz_names_what_is_not_ready(
    client: httpx.AsyncClient, parts: Node
):
    assert (await client.get("/healthz")).json() == {"status": "alive"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["postgres"] and checks["nats"] and checks["projection:bitmap"]
    assert checks["publisher:canvas"] and checks["read_model:bitmap"]

    await parts.runner("bitmap").stop()
    not_ready = await client.get("/readyz")
    body = not_ready.json()
    assert (not_ready.status_code, body["error"]) == (503, "not_ready")
    assert body["checks"]["projection:bitmap"] is False
    assert body["detail"] == "failing: projection:bitmap"


@contextlib.asynccontextmanager
async def api_only(settings: Settings) -> AsyncIterator[tuple[Node, httpx.AsyncClient]]:
    """A node of the `api` role alone (no projector anywhere), and HTTP to it."""
    await migrate(settings)
    node = await build(settings, roles={"api"})
    try:
        transport = httpx.ASGITransport(app=create_app(settings, node=node))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield node, http
    finally:
        await stop(node)


async def test_readyz_asks_postgres_on_its_own_connection_not_the_busy_pool(settings: Settings):
    """Every pool connection taken by the node's work is no sign of the database being away:
    `/readyz` still answers ready (it used to wait for a pool connection past its timeout)."""
    async with api_only(settings) as (node, http):
        held = [await node.pool.acquire() for _ in range(node.pool.get_max_size())]
        try:
            ready = await http.get("/readyz")
        finally:
            for conn in held:
                await node.pool.release(conn)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["postgres"] is True


async def test_the_probe_says_away_within_its_timeout_and_comes_back(settings: Settings):
    """A server that accepts and never answers costs the check its timeout, not more; checks
    at once share the probe's one connection in turn."""
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        away = DatabaseProbe(f"postgresql://postgres@127.0.0.1:{port}/test")
        started = time.monotonic()
        assert await away.answers(0.3) is False
        assert time.monotonic() - started < 2
        await away.close()
    finally:
        silent.close()
    assert settings.database_url is not None
    probe = DatabaseProbe(settings.database_url)
    try:
        assert await asyncio.gather(*(probe.answers(5) for _ in range(5))) == [True] * 5
    finally:
        await probe.close()


async def test_an_api_node_stays_ready_while_the_read_models_lag_and_health_says_so(
    make_settings: Callable[..., Awaitable[Settings]],
):
    """Every API node serves the same read models: their lag is no reason to send a client to
    another node, so it fails `/health` (and the alerts), not an API node's `/readyz`."""
    async with api_only(await make_settings(health_behind_events=1)) as (_, http):
        created = await http.post("/api/canvas", headers=ADMIN, json={
            "width": 8, "height": 8, "palette": PALETTE})
        assert created.status_code == 201, created.text
        health = (await http.get("/health")).json()
        assert health["status"] == "degraded"  # nothing projects the new canvas
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert not any(k.startswith("read_model:") for k in ready.json()["checks"])


async def test_a_projector_process_serves_its_metrics_on_the_metrics_port(
    settings: Settings, tmp_path: Path
):
    """`tessera project` has no web API: `TESSERA_METRICS_PORT` gives operators its endpoints."""
    await migrate(settings)
    port = free_port()
    environ = cli.environment(settings, tmp_path, TESSERA_METRICS_PORT=str(port))
    process = cli.start(environ, tmp_path / "project.log", "project")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def ready() -> httpx.Response | None:
                try:
                    response = await http.get("/readyz")
                except httpx.TransportError:
                    return None
                return response if response.status_code == 200 else None

            checks = (await until(ready, timeout=60)).json()["checks"]
            metrics = (await http.get("/metrics")).text
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, (tmp_path / "project.log").read_text()
    assert checks["projection:bitmap"] and not any(k.startswith("publisher:") for k in checks)
    assert value(metrics, "tessera_projection_events_total", projection="bitmap") == 0
    assert value(metrics, "tessera_publisher_events_total", context="canvas") is None


async def test_live_sockets_are_counted_by_context_while_open(parts: Node, client: httpx.AsyncClient):
    created = await client.post(
        "/api/canvas", json={"width": 8, "height": 8, "palette": PALETTE}, headers=ADMIN
    )
    canvas_id = created.json()["id"]

    async def projected() -> bool:
        return (await client.get(f"/api/canvas/{canvas_id}")).status_code == 200

    await until(projected, timeout=30)

    def open_sockets(text: str) -> float:
        return value(text, "tessera_live_sockets", context="canvas") or 0.0

    before = open_sockets((await client.get("/metrics")).text)
    async with serving(parts) as port:
        url = f"ws://127.0.0.1:{port}/api/canvas/{canvas_id}/live"
        async with websockets.connect(url, additional_headers=PLAYER) as socket:
            await socket.recv()
            text = (await client.get("/metrics")).text
            during = open_sockets(text)
            received = value(text, "tessera_live_messages_received_total", context="canvas") or 0
            for _ in range(3):
                await socket.send('{"type": "ping"}')
                while "pong" not in await socket.recv():
                    pass
            text = (await client.get("/metrics")).text
            assert value(text, "tessera_live_messages_received_total", context="canvas") == (
                received + 3)

            # A refused message is counted with the HTTP refusals, under its context and code.
            await socket.send('{"type": "place", "x": 99, "y": 0, "colour": 1, "op": "o1"}')
            while '"error"' not in (frame := await socket.recv()):
                pass
            code = json.loads(frame)["error"]
            refused = value(text, "tessera_refusals_total", context="canvas", code=code) or 0
            text = (await client.get("/metrics")).text
            assert value(text, "tessera_refusals_total", context="canvas", code=code) == (
                refused + 1)

        async def closed() -> bool:
            return open_sockets((await client.get("/metrics")).text) == before

        await until(closed, timeout=10)
    assert during == before + 1
