#!/usr/bin/env python3
"""Sticker desk benchmark: one JSON line on stdout, progress on stderr.

    .venv/bin/python scripts/bench_desk.py [--desks 1000] [--clients 3] [--rate 10000]
        [--seconds 15] [--warmup 5] [--join-stickers 1000]

`tessera serve` runs in a subprocess (its own schema and stream prefix, dropped at the end, dev
auth, rate limits off); the clients run in another subprocess on raw asyncio protocols (the
WebSocket client of scripts/load_canvas.py). Loopback only; every phase is bounded in time and
the whole run gives up after `--timeout`.

Phases:

1. setup: `--desks` desks, each joined by `--clients` clients (`POST /api/desk/init`, a client
   id and session key each), every client on its own socket (`hello`, then `synced`); each client
   creates its own sticker;
2. baselines: one socket's ping -> pong, idle; core NATS publish -> subscribe on loopback; a
   one-row insert's commit in PostgreSQL (the WAL flush every acknowledged op waits for);
3. sustained: the clients send moves of their stickers at `--rate` ops/s in all (open loop,
   evenly spread over the clients) for `--warmup` seconds, not measured, then for `--seconds`;
   accepted = acknowledged ops/s; each op's
   latency is taken from its send to its arrival at every OTHER client of its desk (all pairs);
   wire bytes per op both ways; the server's CPU and threads;
4. join: a desk of `--join-stickers` stickers; a fresh `hello` (epoch 0: a snapshot) -> `synced`,
   minus the idle ping RTT, is the server's time to join it;
5. store: bytes per stored desk event (`pg_total_relation_size` of the desk events table).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import time
from array import array
from collections.abc import Callable
from typing import Any

import benchkit  # scripts/ is on sys.path when this file runs
import msgspec
from benchkit import cpu_ticks, say
from load_canvas import WsClient, connect

from tests.support.ws_frames import upgrade_request

TICK_S = 0.005


class _Head(msgspec.Struct):
    type: str
    client_id: str = ""
    client_seq: int = 0
    desk_seq: int = 0


_head = msgspec.json.Decoder(_Head).decode


def now_ms() -> int:
    return int(time.time() * 1000)


def threads_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


class DeskClient(WsClient):
    """A client socket that counts the bytes it gets and knows its desk and identity."""

    def __init__(self, gen: Any, index: int, request: bytes, desk: int, me: dict[str, str]) -> None:
        super().__init__(gen, index, request)
        self.desk = desk
        self.client_id = me["client_id"]
        self.session_key = me["session_key"]
        self.seq = 0
        self.sticker = ""
        self.bytes_in = 0
        self.bytes_out = 0
        self.synced: asyncio.Future[float] | None = None
        self.acked = 0

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        super().data_received(data)

    def send_text(self, payload: bytes) -> None:
        self.bytes_out += len(payload) + 6  # + the frame's head and mask (short frames)
        super().send_text(payload)

    def hello(self, epoch: int = 1) -> asyncio.Future[float]:
        self.synced = asyncio.get_running_loop().create_future()
        self.send_text(
            msgspec.json.encode(
                {
                    "type": "hello",
                    "client_id": self.client_id,
                    "session_key": self.session_key,
                    "epoch": epoch,
                    "last_seq": 0,
                }
            )
        )
        return self.synced


class Generator:
    def __init__(self, p: dict[str, Any]) -> None:
        self.p = p
        self.host, self.port, self.ports = p["host"], p["port"], p["ports"]
        self.clients: list[DeskClient] = []
        self.by_id: dict[str, DeskClient] = {}
        self.sent_at: dict[str, array[float]] = {}
        self.latencies = array("d")
        self.ack_latencies = array("d")
        self.measuring = False
        self.position = 0
        """Where in the shuffled clients the next op's author is."""
        self.acks = 0
        self.errors: dict[str, int] = {}
        self.error_samples: list[str] = []
        self.pong: asyncio.Future[float] | None = None
        self.ack_waiters: dict[tuple[str, int], asyncio.Future[float]] = {}

    def on_text(self, client: DeskClient, payload: bytes, now: float) -> None:
        head = _head(payload)
        kind = head.type
        if kind == "op":
            if self.measuring and head.client_id != client.client_id:
                sent = self.sent_at.get(head.client_id)
                if sent is not None and head.client_seq < len(sent):
                    self.latencies.append(now - sent[head.client_seq])
        elif kind == "ack":
            self.acks += 1
            client.acked = max(client.acked, head.client_seq)
            if self.measuring:
                sent = self.sent_at[client.client_id]
                self.ack_latencies.append(now - sent[head.client_seq])
            waiter = self.ack_waiters.pop((client.client_id, head.client_seq), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)
        elif kind == "synced":
            if client.synced is not None and not client.synced.done():
                client.synced.set_result(now)
        elif kind == "pong":
            if self.pong is not None and not self.pong.done():
                self.pong.set_result(now)
        elif kind == "error":
            code = json.loads(payload).get("error", "?")
            self.errors[code] = self.errors.get(code, 0) + 1
            if len(self.error_samples) < 5:
                self.error_samples.append(payload[:300].decode(errors="replace"))

    def request(self, link: str, port: int) -> bytes:
        return upgrade_request(self.host, port, f"/api/desk/{link}/live")

    async def open(self, index: int, desk: int, link: str, me: dict[str, str]) -> DeskClient:
        port = self.ports[desk % len(self.ports)]  # desk affinity: a desk's sockets on one node
        request = self.request(link, port)
        client = await connect(lambda: DeskClient(self, index, request, desk, me), self.host, port)
        self.by_id[client.client_id] = client
        self.sent_at[client.client_id] = array("d", [0.0])
        return client

    def send_op(self, client: DeskClient, *, create: bool = False) -> int:
        client.seq += 1
        seq = client.seq
        sent = self.sent_at[client.client_id]
        now = time.perf_counter()
        if len(sent) <= seq:
            sent.append(now)
        else:
            sent[seq] = now
        cid = client.client_id
        x = (seq * 7) % 1000
        if create:
            client.sticker = _uuid7()
            body = (
                b'{"type":"op","client_id":"%s","client_seq":%d,"sticker":"%s","create":true,'
                b'"stamp":[%d,0,"%s"],"fields":{"x":%d,"y":%d,"text":"bench","colour":"#ffcc00"}}'
                % (cid.encode(), seq, client.sticker.encode(), now_ms(), cid.encode(), x, seq)
            )
        else:
            body = (
                b'{"type":"op","client_id":"%s","client_seq":%d,"sticker":"%s",'
                b'"stamp":[%d,0,"%s"],"fields":{"x":%d}}'
                % (cid.encode(), seq, client.sticker.encode(), now_ms(), cid.encode(), x)
            )
        client.send_text(body)
        return seq

    def ack_of(self, client: DeskClient, seq: int) -> asyncio.Future[float]:
        future = asyncio.get_running_loop().create_future()
        if client.acked >= seq:
            future.set_result(time.perf_counter())
        else:
            self.ack_waiters[(client.client_id, seq)] = future
        return future

    async def ping(self, client: DeskClient) -> float:
        self.pong = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        client.send_text(b'{"type":"ping"}')
        return await asyncio.wait_for(self.pong, 10) - t0


def _uuid7() -> str:
    ms = now_ms()
    rand = secrets.randbits(74)
    value = (
        (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def pct_ms(samples: array[float] | list[float], *qs: float) -> dict[str, float | None]:
    import numpy as np

    if not len(samples):
        return {f"p{q:g}_ms": None for q in qs}
    values = np.frombuffer(samples, dtype=np.float64) if isinstance(samples, array) else samples
    return {f"p{q:g}_ms": round(float(np.percentile(values, q)) * 1000, 2) for q in qs}


async def init_clients(p: dict[str, Any]) -> list[tuple[str, list[dict[str, str]]]]:
    import httpx

    base = f"http://{p['host']}:{p['port']}"
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def init(name: str, create: bool) -> dict[str, Any]:
            async with gate:
                body = {"name": name, "create_new": create}
                response = await http.post("/api/desk/init", json=body)
                response.raise_for_status()
                return response.json()  # type: ignore[no-any-return]

        async def join(desk_id: str) -> dict[str, Any]:
            async with gate:  # the link, as another browser has it (a name finds only your own)
                response = await http.post(f"/api/desk/{desk_id}/session", json={})
                response.raise_for_status()
                return {**response.json(), "desk_id": desk_id}  # type: ignore[no-any-return]

        async def desk(i: int) -> tuple[str, list[dict[str, str]]]:
            name = f"bench-{p['tag']}-{i}"
            first = await init(name, True)
            others = [await join(first["desk_id"]) for _ in range(p["clients"] - 1)]
            return first["desk_id"], [first, *others]

        return list(await asyncio.gather(*(desk(i) for i in range(p["desks"]))))


async def nats_baseline(url: str, messages: int = 50_000) -> dict[str, Any]:
    import nats

    nc = await nats.connect(url, name="bench-desk-baseline")
    try:
        got = 0
        done = asyncio.get_running_loop().create_future()

        async def on(_: Any) -> None:
            nonlocal got
            got += 1
            if got == messages and not done.done():
                done.set_result(None)

        subject = f"bench_desk.{secrets.token_hex(4)}"
        sub = await nc.subscribe(subject, cb=on)
        payload = b"x" * 200
        t0 = time.perf_counter()
        for _ in range(messages):
            await nc.publish(subject, payload)
        await asyncio.wait_for(done, 30)
        elapsed = time.perf_counter() - t0
        await sub.unsubscribe()
        return {"messages": messages, "bytes": 200, "per_s": round(messages / elapsed)}
    finally:
        await nc.close()


async def commit_baseline(dsn: str, schema: str, commits: int = 200) -> dict[str, Any]:
    """One-row inserts, each its own transaction: what a commit costs on this disk right now."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        table = f'"{schema}".bench_commit_probe'
        await conn.execute(f"CREATE TABLE {table} (n int)")
        times = []
        for n in range(commits):
            t0 = time.perf_counter()
            await conn.execute(f"INSERT INTO {table} VALUES ($1)", n)
            times.append(time.perf_counter() - t0)
        await conn.execute(f"DROP TABLE {table}")
        return {"commits": commits, **pct_ms(times, 50, 99)}
    finally:
        await conn.close()


async def _loadgen(p: dict[str, Any]) -> dict[str, Any]:
    gen = Generator(p)
    out: dict[str, Any] = {}
    server = p["server_pid"]
    servers = p["server_pids"]
    background = p["background_pids"]

    # -- 1. setup ---------------------------------------------------------------------------
    t0 = time.perf_counter()
    desks = await init_clients(p)
    out["init_per_s"] = round(len(desks) * p["clients"] / (time.perf_counter() - t0))
    say(f"{len(desks)} desks, {p['clients']} client ids each, in {time.perf_counter() - t0:.1f} s")
    gate = asyncio.Semaphore(64)

    async def join(index: int, desk: int, link: str, me: dict[str, str]) -> DeskClient:
        async with gate:
            client = await gen.open(index, desk, link, me)
            await asyncio.wait_for(client.hello(), 30)
            return client

    t0 = time.perf_counter()
    gen.clients = list(
        await asyncio.gather(
            *(
                join(d * p["clients"] + c, d, link, me)
                for d, (link, mes) in enumerate(desks)
                for c, me in enumerate(mes)
            )
        )
    )
    out["sockets"] = len(gen.clients)
    out["connect_and_sync_s"] = round(time.perf_counter() - t0, 2)
    say(f"{len(gen.clients)} sockets synced in {out['connect_and_sync_s']} s")
    creates = [gen.ack_of(c, gen.send_op(c, create=True)) for c in gen.clients]
    await asyncio.wait_for(asyncio.gather(*creates), 120)
    say("every client created its sticker")

    # -- 2. baselines -----------------------------------------------------------------------
    await asyncio.sleep(0.5)
    rtts = [await gen.ping(gen.clients[0]) for _ in range(p["pings"])]
    out["baseline_ping"] = pct_ms(rtts, 50, 99)
    out["baseline_nats_pubsub"] = await nats_baseline(p["nats_url"])
    out["baseline_pg_commit"] = await commit_baseline(p["database_url"], p["schema"])

    # -- 3. sustained -----------------------------------------------------------------------
    order = list(gen.clients)
    random.Random(7).shuffle(order)
    rate, seconds = p["rate"], p["seconds"]
    threads_peak = 0

    async def drive(seconds: float) -> tuple[int, float]:
        """Ops at `rate` for `seconds`, open loop; how many were sent, in how long."""
        nonlocal threads_peak
        start = time.perf_counter()
        sent = ticks = 0
        while (now := time.perf_counter()) - start < seconds:
            due = int((now - start) * rate) - sent
            for _ in range(due):
                gen.send_op(order[gen.position])
                gen.position = (gen.position + 1) % len(order)
            sent += max(due, 0)
            ticks += 1
            if ticks % 100 == 0:
                threads_peak = max(threads_peak, threads_of(server))
            await asyncio.sleep(TICK_S)
        return sent, time.perf_counter() - start

    # The same load, not measured, then drained: the servers' first collections of the objects
    # of 3,000 new sockets (a few hundred ms, once) belong to the connecting, not to the load.
    await drive(p["warmup_s"])
    deadline = time.perf_counter() + p["drain_s"]
    while time.perf_counter() < deadline and any(c.acked < c.seq for c in gen.clients):
        await asyncio.sleep(0.05)
    for c in gen.clients:
        c.bytes_in = c.bytes_out = 0
    acks_before = gen.acks
    cpu_server, cpu_machine = sum(cpu_ticks(pid) for pid in servers), cpu_ticks(None)
    cpu_background = sum(cpu_ticks(pid) for pid in background)
    cpu_self = time.process_time()
    gen.measuring = True
    sent, phase = await drive(seconds)
    acked_in_phase = gen.acks - acks_before
    cpu_server = sum(cpu_ticks(pid) for pid in servers) - cpu_server
    cpu_background = sum(cpu_ticks(pid) for pid in background) - cpu_background
    cpu_machine = cpu_ticks(None) - cpu_machine
    cpu_self = time.process_time() - cpu_self
    deadline = time.perf_counter() + p["drain_s"]
    while time.perf_counter() < deadline and any(c.acked < c.seq for c in gen.clients):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # the last ops' fan-out
    gen.measuring = False
    unacked = sum(c.seq - c.acked for c in gen.clients)
    wire_in = sum(c.bytes_in for c in gen.clients)
    wire_out = sum(c.bytes_out for c in gen.clients)
    peers = p["clients"] - 1
    out["sustained"] = {
        "target_per_s": rate,
        "sent": sent,
        "sent_per_s": round(sent / phase),
        "acked_during_phase_per_s": round(acked_in_phase / phase),
        "unacked_after_drain": unacked,
        "op_to_peers": {"pairs": len(gen.latencies), **pct_ms(gen.latencies, 50, 90, 99, 99.9)},
        "pairs_expected": sent * peers,
        "op_to_ack": pct_ms(gen.ack_latencies, 50, 99),
        "wire_bytes_per_op_to_clients": round(wire_in / max(sent, 1), 1),
        "wire_bytes_per_op_from_author": round(wire_out / max(sent, 1), 1),
        "server_cpu_cores": round(cpu_server / phase, 2),
        "api_nodes": len(servers),
        "relay_and_projection_cpu_cores": round(cpu_background / phase, 2),
        "machine_cpu_cores": round(cpu_machine / phase, 2),
        "loadgen_cpu_cores": round(cpu_self / phase, 2),
        "server_threads_peak": threads_peak,
        "errors": gen.errors,
        "error_samples": gen.error_samples,
    }
    say(f"sustained: {json.dumps(out['sustained'])}")

    # -- 4. join a big desk -----------------------------------------------------------------
    big_link = desks[0][0]
    author = gen.clients[0]
    last = 0
    for _ in range(p["join_stickers"] - 1):  # it has `clients` stickers already
        last = gen.send_op(author, create=True)
    await asyncio.wait_for(gen.ack_of(author, last), 60)
    await asyncio.sleep(2.0)  # the read model catches up (else the join reads a longer tail)
    joiner_me = desks[0][1][1]
    joins: list[float] = []
    snapshot_seen = 0
    for attempt in range(p["joins"] + 50):
        client = await gen.open(10_000_000 + attempt, 0, big_link, joiner_me)
        client.bytes_in = 0
        t0 = time.perf_counter()
        synced_at = await asyncio.wait_for(client.hello(epoch=0), 30)
        elapsed = synced_at - t0
        snapshot_seen = client.bytes_in
        client.transport.close()
        if attempt >= 3:  # the first ones warm the read model's cache and the store's pages
            joins.append(elapsed)
        if len(joins) >= p["joins"]:
            break
    ping_p50 = out["baseline_ping"]["p50_ms"] or 0.0
    join = pct_ms(joins, 50, 99)
    out["join"] = {
        "stickers": p["join_stickers"] + p["clients"] - 1,
        "joins": len(joins),
        "hello_to_synced": join,
        "server_p50_ms": round((join["p50_ms"] or 0.0) - ping_p50, 2),
        "server_p99_ms": round((join["p99_ms"] or 0.0) - ping_p50, 2),
        "snapshot_bytes": snapshot_seen,
    }
    say(f"join: {json.dumps(out['join'])}")
    out["server_threads_end"] = threads_of(server)
    for c in gen.clients:
        c.transport.close()
    return out


# ================================================================================================
# The run: server, load generator, store figures, clean-up
# ================================================================================================


def store_figures(run: benchkit.Run) -> dict[str, Any]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(run.settings.database_url, autocommit=True, connect_timeout=10) as c:
        table = sql.Identifier(run.schema, "desks_events")
        events = c.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
        size = c.execute(
            "SELECT pg_total_relation_size(%s::regclass), pg_relation_size(%s::regclass)",
            (f'"{run.schema}".desks_events',) * 2,
        ).fetchone()
        payload = c.execute(
            sql.SQL("SELECT avg(length(state)) FROM {} WHERE topic LIKE %s").format(table),
            ("%Sticker%",),
        ).fetchone()
    assert events is not None and size is not None and payload is not None
    count = int(events[0])
    return {
        "desk_events": count,
        "bytes_per_event_total": round(size[0] / max(count, 1), 1),
        "bytes_per_event_heap": round(size[1] / max(count, 1), 1),
        "op_event_payload_bytes": round(float(payload[0] or 0), 1),
    }


def load_figures(run: benchkit.Run, loads: int = 20) -> dict[str, Any]:
    """Loading the run's busiest desk from the store, as a node does that takes it over (its
    snapshot, then the events after it), median of `loads`; beside it the library's own
    projection of the same events (`project_aggregate`), the baseline of the same run."""
    import statistics

    import psycopg
    from psycopg import sql

    from commands.desk.desks import Desks
    from infra.spine.eventstore import application_env

    with psycopg.connect(run.settings.database_url, autocommit=True, connect_timeout=10) as c:
        row = c.execute(
            sql.SQL(
                "SELECT originator_id FROM {} GROUP BY originator_id ORDER BY count(*) DESC LIMIT 1"
            ).format(sql.Identifier(run.schema, "desks_events"))
        ).fetchone()
    assert row is not None
    desk_id = row[0]
    desks = Desks(application_env(run.settings))
    try:

        def median_ms(load: Callable[[], Any]) -> float:
            times = []
            for _ in range(loads):
                started = time.perf_counter()
                load()
                times.append(time.perf_counter() - started)
            return round(statistics.median(times) * 1000, 2)

        ours = median_ms(lambda: desks.get_desk(desk_id))
        library = median_ms(lambda: desks.repository.get(desk_id))
        version = desks.get_desk(desk_id).version
    finally:
        desks.close()
    return {"desk_version": version, "load_ms": ours, "library_load_ms": library}


async def run_bench(run: benchkit.Run, args: argparse.Namespace) -> None:
    run.settings = await asyncio.to_thread(benchkit.resolve_settings, run)
    run.migrated = True
    ports = [benchkit.free_port() for _ in range(args.nodes)]
    if args.split or args.nodes > 1:
        say(f"starting API nodes on {ports}, a relay and a projector (schema {run.schema})")
        await benchkit.start_split(run, ports)
    else:
        say(f"starting the server on port {ports[0]} (schema {run.schema})")
        await benchkit.start_server(run, ports[0])
    assert run.server is not None
    helpers = run.helpers  # the relay, the projector, then the other API nodes
    params = {
        "host": "127.0.0.1",
        "port": ports[0],
        "ports": ports,
        "tag": run.prefix,
        "server_pid": run.server.pid,
        "server_pids": [run.server.pid] + [process.pid for process in helpers[2:]],
        "background_pids": [process.pid for process in helpers[:2]],
        "nats_url": run.settings.nats_url,
        "database_url": run.settings.database_url,
        "schema": run.schema,
        "desks": args.desks,
        "clients": args.clients,
        "rate": args.rate,
        "seconds": args.seconds,
        "join_stickers": args.join_stickers,
        "joins": 30,
        "pings": 200,
        "drain_s": 15.0,
        "warmup_s": args.warmup,
    }
    run.result.update(await benchkit.run_loadgen(run, __file__, params, args.timeout))
    run.result["store"] = await asyncio.to_thread(store_figures, run)
    run.result["load"] = await asyncio.to_thread(load_figures, run)
    run.result["server_stopped_cleanly"] = benchkit.stop_server(run, timeout=15.0)
    run.result["server_log_errors"] = benchkit.server_log_errors(run.server_log)


def headline(result: dict[str, Any]) -> dict[str, Any]:
    sustained = result.get("sustained", {})
    peers = sustained.get("op_to_peers", {})
    join = result.get("join", {})
    store = result.get("store", {})
    return {
        "ops_accepted_per_s": sustained.get("acked_during_phase_per_s"),
        "op_to_peers_p50_ms": peers.get("p50_ms"),
        "op_to_peers_p99_ms": peers.get("p99_ms"),
        "wire_bytes_per_op": sustained.get("wire_bytes_per_op_to_clients"),
        "store_bytes_per_op": store.get("bytes_per_event_total"),
        "join_1000_server_ms": join.get("server_p50_ms"),
        "desk_load_ms": result.get("load", {}).get("load_ms"),
        "desk_load_over_library": ratio(result.get("load", {})),
        "baseline_ping_p50_ms": result.get("baseline_ping", {}).get("p50_ms"),
        "baseline_nats_msgs_per_s": result.get("baseline_nats_pubsub", {}).get("per_s"),
        "baseline_pg_commit_p99_ms": result.get("baseline_pg_commit", {}).get("p99_ms"),
    }


def ratio(load: dict[str, Any]) -> float | None:
    """A desk's load against the library's projection of the same events, in the same run."""
    if not load.get("library_load_ms"):
        return None
    return round(load["load_ms"] / load["library_load_ms"], 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--desks", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=3, help="sockets a desk")
    parser.add_argument("--rate", type=float, default=10_000, help="ops/s, all clients")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--warmup", type=float, default=5, help="seconds of the same load before measuring"
    )
    parser.add_argument("--join-stickers", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=400, help="give up after (s)")
    parser.add_argument(
        "--split", action="store_true", help="relay and projections in processes of their own"
    )
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="API nodes (implies --split); a desk's sockets all "
        "go to one node, as a router with desk affinity would send them",
    )
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen is not None:
        benchkit.loadgen_main(_loadgen, json.loads(args.loadgen))
        return 0
    run = benchkit.new_run("bench_desk", "bench_desk")
    started = time.perf_counter()
    machine = benchkit.machine()
    # the server, the schema, the streams and the temporary directory are dropped at the end
    error = benchkit.run_guarded(run, run_bench(run, args), alarm_s=args.timeout + 120)
    result = benchkit.report(headline(run.result), run, error)
    result["machine"] = machine
    result["params"] = {
        "desks": args.desks,
        "clients": args.clients,
        "rate": args.rate,
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "join_stickers": args.join_stickers,
        "split": args.split or args.nodes > 1,
        "nodes": args.nodes,
    }
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
