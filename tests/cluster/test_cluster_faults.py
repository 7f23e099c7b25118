"""The deployment's topology (tests/support/cluster.py: three clustered NATS nodes with the
events stream on 3 replicas, two API nodes behind HAProxy with deploy/haproxy.cfg, one log
publisher, one projector), loaded through HAProxy while the NATS node leading the events stream
is killed (SIGKILL) and brought back,
and while each API node in turn gets a rolling restart (SIGTERM, then started again).

Clients resend a command until it is answered (same `op` for a placement, same `client_seq` for a
desk op: both are idempotent). Asserted: no acknowledged command is lost (every acknowledged
placement's version is a `PixelPlaced` of the event store), none is applied twice (as many
placements in the store as distinct ops, each acknowledged version once), and the read models
converge (the canvas version and the desks' `desk_seq` served through HAProxy equal the store's).
A live canvas socket through HAProxy is closed with 1012 by a restarting node and reconnects.
Loopback only, bounded: 65-80 s on the shared 2-core machine; at most 60 s to start, 95 s of
load and faults, 20 s to converge."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg
import httpx
import nats
import pytest
import websockets

from infra.retry import servers_of
from infra.settings import load
from tests.support.cluster import Cluster, haproxy_binary

pytestmark = pytest.mark.cluster

# A PostgreSQL of the cluster's own unless CLUSTER_DATABASE_URL names one: the four roles open
# about 30 connections, and the shared server's 100 are often nearly all taken by other runs.
DATABASE_URL = os.environ.get("CLUSTER_DATABASE_URL") or None
ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}
PLAYERS = 6
DESKS = 2
UNLIMITED = "100000"


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[Cluster]:
    try:
        haproxy_binary()
    except RuntimeError as missing:
        pytest.fail(f"{missing} (scripts/test installs it)")
    topology = Cluster(database_url=DATABASE_URL, extra_env={
        "TESSERA_DEV_AUTH": "1",
        "TESSERA_SHUTDOWN_TIMEOUT_S": "5",
        # Every client comes from 127.0.0.1 through HAProxy: no per-address or per-account limit.
        "TESSERA_RATE_IP_PER_S": UNLIMITED, "TESSERA_RATE_IP_BURST": UNLIMITED,
        "TESSERA_RATE_ACCOUNT_PER_S": UNLIMITED, "TESSERA_RATE_ACCOUNT_BURST": UNLIMITED,
        "TESSERA_CANVAS_WRITER_LINGER_MS": "1",
    })
    try:
        await asyncio.to_thread(topology.start, 60)
        yield topology
    finally:
        await asyncio.to_thread(topology.stop, True)
        shutil.rmtree(topology.workdir, ignore_errors=True)


@dataclass
class Tally:
    placements: dict[str, int] = field(default_factory=dict)  # op -> acknowledged version
    desk_acks: dict[str, list[int]] = field(default_factory=dict)  # desk -> desk_seqs
    resends: int = 0
    answers: dict[int, int] = field(default_factory=dict)  # status -> count (0: transport)


async def answered(
    tally: Tally, send: Callable[[], Awaitable[httpx.Response]], deadline: float
) -> httpx.Response:
    """Send until a 2xx: a node stopping answers 503, HAProxy 502/503 while it fails over, and
    a connection may break mid-flight; the command is idempotent, so it is sent again."""
    while True:
        try:
            response = await send()
            tally.answers[response.status_code] = tally.answers.get(response.status_code, 0) + 1
            if response.is_success:
                return response
            assert response.status_code in (502, 503, 504), response.text
        except httpx.TransportError:
            tally.answers[0] = tally.answers.get(0, 0) + 1
        tally.resends += 1
        assert time.monotonic() < deadline, "a command was never answered"
        await asyncio.sleep(0.1)


async def place(http: httpx.AsyncClient, tally: Tally, canvas_id: str, player: int,
                stop: asyncio.Event, deadline: float) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        op = f"p{player}-{n}"
        body = {"x": (player * 7 + n) % 16, "y": n % 16, "colour": n % 2, "op": op}
        response = await answered(tally, partial(
            http.post, f"/api/canvas/{canvas_id}/pixels", json=body,
            headers={"X-Dev-User": f"u{player}"},
        ), deadline)
        tally.placements[op] = response.json()["version"]
        await asyncio.sleep(0.02)


async def edit(http: httpx.AsyncClient, tally: Tally, stop: asyncio.Event, deadline: float
               ) -> None:
    opened = await answered(tally, lambda: http.post(
        "/api/desk/init", json={"name": "retro", "create_new": True}, headers={"X-Dev-User": "d"}
    ), deadline)
    desk = opened.json()
    acks = tally.desk_acks.setdefault(desk["desk_id"], [])
    client, key = desk["client_id"], desk["session_key"]
    seq = 0
    while not stop.is_set():
        seq += 1
        body = {"client_id": client, "client_seq": seq, "sticker": "s1", "create": seq == 1,
                "stamp": [int(time.time() * 1000), seq, client], "fields": {"x": seq}}
        response = await answered(tally, partial(
            http.post, f"/api/desk/{desk['desk_id']}/ops", json=body,
            headers={"X-Desk-Session": key},
        ), deadline)
        acks.append(response.json()["desk_seq"])
        await asyncio.sleep(0.02)


async def watch(url: str, closes: list[int | None], stop: asyncio.Event, deadline: float
                ) -> None:
    """A live canvas socket through HAProxy: each time it is closed (a node restarting closes
    its sockets with 1012), note the code and connect again."""
    while not stop.is_set():
        try:
            async with websockets.connect(url, additional_headers={"X-Dev-User": "w"}) as socket:
                await socket.recv()  # served
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.5):
                            await socket.recv()
                return
        except websockets.ConnectionClosed as closed:
            closes.append(closed.rcvd.code if closed.rcvd is not None else None)
        except (OSError, websockets.InvalidStatus):
            pass
        assert time.monotonic() < deadline, "the live socket never came back"
        await asyncio.sleep(0.2)


async def stream_info(cluster: Cluster) -> Any:
    nc = await nats.connect(servers=servers_of(cluster.nats_url))
    try:
        return await nc.jetstream().stream_info(load(cluster.environment()).events_stream)
    finally:
        await nc.close()


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.5)


async def test_no_acknowledged_command_is_lost_or_doubled_through_nats_and_api_faults(
    cluster: Cluster,
):
    started = time.monotonic()
    deadline = started + 95
    tally = Tally()
    async with httpx.AsyncClient(base_url=cluster.url, timeout=15) as http:
        created = await answered(tally, lambda: http.post("/api/canvas", json={
            "width": 16, "height": 16, "palette": ["#000000", "#ffffff"], "cooldown_ms": 0,
        }, headers=ADMIN), deadline)
        canvas_id = created.json()["id"]

        async def projected() -> bool:
            return (await http.get(f"/api/canvas/{canvas_id}")).status_code == 200

        await until(projected, 30, "the new canvas is never served")
        stop = asyncio.Event()
        load = [asyncio.create_task(place(http, tally, canvas_id, p, stop, deadline))
                for p in range(PLAYERS)]
        load += [asyncio.create_task(edit(http, tally, stop, deadline)) for _ in range(DESKS)]
        closes: list[int | None] = []
        live = cluster.url.replace("http://", "ws://") + f"/api/canvas/{canvas_id}/live"
        load.append(asyncio.create_task(watch(live, closes, stop, deadline)))

        async def faults() -> list[str]:
            timeline: list[str] = []

            def mark(what: str) -> None:
                timeline.append(f"{time.monotonic() - started:.1f}s {what}")

            await asyncio.sleep(3)
            # The events stream's leader: JetStream must elect another while it is gone.
            leader = (await stream_info(cluster)).cluster.leader
            victim = int(leader.removeprefix("nats")) - 1
            mark(f"kill {leader}, the stream's leader")
            await asyncio.to_thread(cluster.kill_nats, victim)
            await asyncio.sleep(5)
            mark(f"start {leader}")
            await asyncio.to_thread(cluster.start_nats, victim)
            await until(lambda: asyncio.to_thread(cluster.nats_ready, victim), 60,
                        f"{leader} not back")
            mark(f"{leader} ready")
            for index in range(2):
                mark(f"SIGTERM api{index + 1}")
                status = await asyncio.to_thread(cluster.stop_api, index, 20)
                mark(f"api{index + 1} exited {status}")
                await asyncio.to_thread(cluster.start_api_ready, index, time.monotonic() + 60)
                mark(f"api{index + 1} ready again")
                await asyncio.sleep(2)
            return timeline

        try:
            timeline = await asyncio.wait_for(faults(), 85)
            cluster.check_alive()
        finally:
            stop.set()
            await asyncio.gather(*load)

        # Verified against the event store.
        conn = await asyncpg.connect(cluster.database_url)
        try:
            rows = await conn.fetch(
                f'SELECT originator_version, topic FROM "{cluster.schema}".canvases_events '
                "WHERE originator_id = $1", uuid.UUID(canvas_id),
            )
        finally:
            await conn.close()
        placed = sorted(r["originator_version"] for r in rows if r["topic"].endswith("PixelPlaced"))
        store_version = max(r["originator_version"] for r in rows)
        acked = sorted(tally.placements.values())
        assert acked, "nothing was placed"
        assert set(acked) <= set(placed), "an acknowledged placement is not in the store"
        assert len(set(acked)) == len(acked), "two ops acknowledged with one version"
        assert len(placed) == len(tally.placements), "a placement was applied twice (or lost)"

        for desk_id, seqs in tally.desk_acks.items():
            assert seqs == list(range(1, len(seqs) + 1)), (desk_id, seqs)
        # Both nodes restarted: the live socket was told to reconnect, and did, through HAProxy.
        assert 1012 in closes, closes

        async def converged() -> bool:
            canvas = await http.get(f"/api/canvas/{canvas_id}")
            if canvas.status_code != 200 or canvas.json()["version"] != store_version:
                return False
            for desk_id, seqs in tally.desk_acks.items():
                desk = await http.get(f"/api/desk/{desk_id}")
                if desk.status_code != 200 or desk.json()["desk_seq"] != len(seqs):
                    return False
            return True

        await until(converged, 20, "the read models did not converge")

    # The events stream is replicated on the three servers, and they agree on it again.
    info = await stream_info(cluster)
    assert info.config.num_replicas == 3
    assert info.cluster is not None and len(info.cluster.replicas or []) == 2, info.cluster
    elapsed = time.monotonic() - started
    print(f"\ncluster: {len(acked)} placements, "
          f"{sum(len(s) for s in tally.desk_acks.values())} desk ops acknowledged in "
          f"{elapsed:.0f}s; {tally.resends} resends; answers {tally.answers}; "
          f"live socket closed with {closes} and reconnected; "
          + "; ".join(timeline))
