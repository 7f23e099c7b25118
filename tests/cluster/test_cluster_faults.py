"""The deployment's topology (tests/support/cluster.py: three clustered NATS nodes with the
events stream on 3 replicas, two API nodes behind HAProxy with deploy/haproxy.cfg, one log
publisher, one projector), loaded through HAProxy while the NATS node leading the events stream
is killed (SIGKILL) and brought back, while each API node in turn gets a rolling restart
(SIGTERM, then started again), and while the projector is killed (SIGKILL) and started again.

The load comes as the web clients send it, over the live sockets, from a process of its own
(tests/support/load_live.py): 200 canvas players on one canvas, each on its canvas socket with
up to 4 placements unanswered (`place` with an `op`), and 100 desk clients, each on a desk of
its own and its desk socket with up to 32 ops unanswered (`op` with a `client_seq`); 2,000
placements a second and 2,000 desk ops a second offered in all (`TESSERA_CLUSTER_RATE`), open
loop, to the clients with room. A socket that closes (a stopping node says 1012) reconnects
after the web clients' backoff, catches up as they do (the canvas socket opened with `?since=`,
its first frame the delta from there; the desk's `hello` with the last `desk_seq` until
`synced`) and sends again every command not answered yet, the same `op` or
`client_seq`; a `try_again` goes again after its `wait_ms`. So an acknowledgement means what it
means to a player: the server said it stored that command.

Asserted: no acknowledged command is lost (every acknowledged placement's version is a
`PixelPlaced` of the event store), none is applied twice (as many placements in the store as
ops, each acknowledged version once; each desk's acknowledged `desk_seq`s are 1..n in
`client_seq` order), no refusal other than `try_again` / `unavailable`, every command answered
and every socket back and caught up once the load stops, the read models converge (the canvas
version and the desks' `desk_seq` served through HAProxy equal the store's), and the events
stream has its three replicas again. The figures reached (acknowledged a second over the load
and during the faults, answer times, reconnection times, cores by role) are printed: a
benchmark's business, not an assertion. `CLUSTER_RESULT=<file>` writes them with the events by
second; `CLUSTER_KEEP_LOGS=1` keeps the processes' logs. Loopback only, bounded: at most 120 s to
start, 95 s of load and faults, 45 s to drain, 20 s to converge."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import pytest

from infra.retry import servers_of
from infra.settings import load
from tests.support.cluster import ROOT, Cluster, haproxy_binary
from tests.support.cpu import CpuByRole
from tests.support.raw_http import RawHttp, until_answered

pytestmark = pytest.mark.cluster

# A PostgreSQL of the cluster's own unless CLUSTER_DATABASE_URL names one: the four roles open
# about 30 connections, and the shared server's 100 are often nearly all taken by other runs.
DATABASE_URL = os.environ.get("CLUSTER_DATABASE_URL") or None
ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}
RATE = float(os.environ.get("TESSERA_CLUSTER_RATE", "2000"))
"""Placements a second, and desk ops a second, offered through HAProxy (the issue's load)."""
PLAYERS = 200
"""Canvas players, each on a live socket of its own (a node answers one socket's placements one
after the other: a canvas's rate comes from many players, as in a game)."""
CANVAS_INFLIGHT = 4
"""Placements a player may have unanswered (the canvas recognises a resend among a player's
last 16 ops)."""
DESKS = 100
"""Desk clients, each on a desk of its own and a live socket."""
DESK_INFLIGHT = 32
"""Ops a desk client may have unanswered (a node reads at most 64 of a socket at a time)."""
PEACE_S = 8
"""Load before the first fault: the rate the topology reaches unharmed."""
LOAD_S = 95
"""At most this long from the first request to the end of the faults."""
DRAIN_S = 45
"""At most this long after the load for every command to be answered."""
CANVAS_SIDE = 64
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
        await asyncio.to_thread(topology.start, 120)
        yield topology
    finally:
        await asyncio.to_thread(topology.stop, True)
        if not os.environ.get("CLUSTER_KEEP_LOGS"):
            shutil.rmtree(topology.workdir, ignore_errors=True)


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


async def load_generator(params: dict[str, Any]) -> asyncio.subprocess.Process:
    """The clients in a process of their own (tests/support/load_live.py): it shares the two
    cores with the servers, and this process runs the faults."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.load_live", json.dumps(params),
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )


async def line_of(process: asyncio.subprocess.Process, timeout: float) -> Any:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout)
    assert line, f"the load generator exited ({await process.wait()})"
    return json.loads(line)


def acked_per_s(result: dict[str, Any], kind: str, start: float, end: float) -> float:
    """Acknowledgements a second between two moments of the monotonic clock."""
    bins, size = result["bins"][kind], result["bin_s"]
    first = max(0, int((start - result["t0"]) / size))
    last = max(first + 1, int((end - result["t0"]) / size))
    return sum(bins[first:last]) / ((last - first) * size)


def seconds_of(figures: dict[str, float]) -> str:
    return " / ".join(f"{figures.get(k, 0) * 1000:.0f}" for k in ("p50", "p99", "max")) + " ms"


def seconds(values: list[float]) -> str:
    if not values:
        return "none"
    values = sorted(values)
    return (f"{values[len(values) // 2]:.2f} / {values[int(len(values) * 0.99)]:.2f} / "
            f"{values[-1]:.2f} s")


async def test_no_acknowledged_command_is_lost_or_doubled_through_nats_and_api_faults(
    cluster: Cluster,
):
    started = time.monotonic()
    deadline = started + LOAD_S
    host, port = "127.0.0.1", cluster.ports.haproxy
    admin = RawHttp(host, port)
    try:
        created = await until_answered(admin, deadline, "POST", "/api/canvas", {
            "width": CANVAS_SIDE, "height": CANVAS_SIDE, "palette": ["#000000", "#ffffff"],
            "cooldown_ms": 0,
        }, ADMIN)
    finally:
        admin.close()
    canvas_id = json.loads(created)["id"]
    async with httpx.AsyncClient(base_url=cluster.url, timeout=15) as http:

        async def projected() -> bool:
            return (await http.get(f"/api/canvas/{canvas_id}")).status_code == 200

        await until(projected, 30, "the new canvas is never served")
        generator = await load_generator({
            "host": host, "port": port, "canvas_id": canvas_id, "canvas_side": CANVAS_SIDE,
            "players": PLAYERS, "desks": DESKS, "rate": RATE,
            "canvas_inflight": CANVAS_INFLIGHT, "desk_inflight": DESK_INFLIGHT,
            "seconds": deadline - time.monotonic(), "drain_s": DRAIN_S,
            "tag": cluster.schema, "result_path": str(cluster.workdir / "load_result.json"),
        })
        cpu = CpuByRole(lambda: cluster.pids() | {"load generator": [generator.pid]})
        watching = asyncio.Event()
        try:
            await line_of(generator, 60)  # every socket open
            sampling = asyncio.create_task(cpu.watch(watching))
            timeline: list[str] = []

            def mark(what: str) -> float:
                now = time.monotonic()
                timeline.append(f"{now - started:.1f}s {what}")
                return now

            await asyncio.sleep(PEACE_S)
            # The events stream's leader: JetStream must elect another while it is gone.
            leader = (await stream_info(cluster)).cluster.leader
            victim = int(leader.removeprefix("nats")) - 1
            faults_from = mark(f"kill {leader}, the stream's leader")
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
                await asyncio.sleep(3)
            # The projector crashes: the read models (and the canvas's live deltas, which the
            # bitmap projection publishes) stop until it is back and has caught up.
            mark("kill the projector")
            await asyncio.to_thread(cluster.kill_projector)
            await asyncio.sleep(3)
            mark("start the projector")
            await asyncio.to_thread(cluster.start_projector)
            await until(lambda: asyncio.to_thread(cluster.projector_ready), 60,
                        "the projector not back")
            mark("the projector ready (caught up)")
            await asyncio.sleep(2)
            faults_to = mark("load stops")
            cluster.check_alive()
            assert generator.stdin is not None
            generator.stdin.write(b"stop\n")
            await generator.stdin.drain()
            done = await line_of(generator, DRAIN_S + 30)
            result = json.loads(Path(done["result"]).read_text())
            watching.set()
            await sampling
            await generator.wait()
        finally:
            watching.set()
            if generator.returncode is None:
                generator.kill()
                await generator.wait()

        if os.environ.get("CLUSTER_RESULT"):  # the figures for a report, without the tally
            figures = {k: v for k, v in result.items() if k not in ("versions", "desks")}
            figures["faults"] = {"from": faults_from - result["t0"], "to": faults_to - result["t0"],
                                 "timeline": timeline, "cores": cpu.cores()}
            Path(os.environ["CLUSTER_RESULT"]).write_text(json.dumps(figures, indent=1))
        assert not result["defects"], result["defects"]
        assert result["unanswered"] == {"canvas": 0, "desk": 0}, (
            f"commands never answered: {result['unanswered']}")

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
        acked = sorted(result["versions"])
        assert acked, "nothing was placed"
        assert set(acked) <= set(placed), "an acknowledged placement is not in the store"
        assert len(set(acked)) == len(acked), "two ops acknowledged with one version"
        # Every op was answered: as many placements stored as ops, or one was applied twice.
        assert len(placed) == len(acked), "a placement was applied twice (or lost)"
        desks: dict[str, list[int]] = result["desks"]
        for desk_id, seqs in desks.items():  # each op of the desk's one client, in order
            assert seqs == list(range(1, len(seqs) + 1)), (desk_id, seqs[:50])
        # Both nodes restarted: every live socket they closed came back through HAProxy. A
        # stopping node says 1012 (test_graceful_restart checks it); under this load its close
        # frame may not get through before it exits, so a cut socket counts as closed too.
        assert result["back_in"]["canvas"] and result["back_in"]["desk"], result["closes"]
        assert result["never_back"] == 0, result["closes"]

        async def converged() -> bool:
            try:
                canvas = await http.get(f"/api/canvas/{canvas_id}")
                if canvas.status_code != 200 or canvas.json()["version"] != store_version:
                    return False
                for desk_id, seqs in desks.items():
                    desk = await http.get(f"/api/desk/{desk_id}")
                    if desk.status_code != 200 or desk.json()["desk_seq"] != len(seqs):
                        return False
            except httpx.TransportError:  # a node still busy after the load: ask again
                return False
            return True

        await until(converged, 20, "the read models did not converge")

    # The events stream is replicated on the three servers, and they agree on it again.
    info = await stream_info(cluster)
    assert info.config.num_replicas == 3
    assert info.cluster is not None and len(info.cluster.replicas or []) == 2, info.cluster
    load_s = result["load_s"]
    canvas_acks = len(acked)
    desk_ops = sum(len(s) for s in desks.values())
    latency = result["latency_s"]
    print(
        f"\ncluster: offered {RATE:.0f}/s each over the live sockets ({PLAYERS} players, "
        f"{DESKS} desk clients); acknowledged {canvas_acks} placements and {desk_ops} desk ops "
        f"in {load_s:.0f} s of load: {canvas_acks / load_s:.0f} and {desk_ops / load_s:.0f}/s "
        f"over the whole load, {acked_per_s(result, 'canvas', result['t0'], faults_from):.0f} "
        f"and {acked_per_s(result, 'desk', result['t0'], faults_from):.0f}/s before the faults, "
        f"{acked_per_s(result, 'canvas', faults_from, faults_to):.0f} and "
        f"{acked_per_s(result, 'desk', faults_from, faults_to):.0f}/s during the faults "
        f"({faults_to - faults_from:.0f} s), drained in {result['drained_in_s']:.1f} s; "
        f"answer p50 / p99 / max: placements {seconds_of(latency['canvas'])}, desk ops "
        f"{seconds_of(latency['desk'])}; not offered for want of room {dict(result['no_room'])}; "
        f"resent {dict(result['resends'])}; refusals {dict(result['refusals'])}; closes "
        f"{dict(result['closes'])}; back and caught up p50 / p99 / max: canvas "
        f"{seconds(result['back_in']['canvas'])}, desk {seconds(result['back_in']['desk'])} "
        f"(open again in canvas {seconds(result['open_in']['canvas'])}, desk "
        f"{seconds(result['open_in']['desk'])}); "
        f"cores {cpu.cores()}; load generator {result['cpu_s']:.0f} CPU s; "
        f"{time.monotonic() - started:.0f} s in all; " + "; ".join(timeline))
