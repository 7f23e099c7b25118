#!/usr/bin/env python3
"""Billiards benchmark: one JSON line on stdout, progress on stderr.

    .venv/bin/python scripts/bench_billiards.py [--matches 2000] [--spectators 10000]
        [--interval 2] [--seconds 20] [--warmup 5] [--burst] [--via http|socket]

`tessera serve` runs in a subprocess (its own schema and stream prefix, dropped at the end, dev
auth, rate limits off); the load generator runs in another subprocess on raw asyncio protocols
(keep-alive HTTP/1.1 for the shots, one connection a scorekeeper, or with `--via socket` each
scorekeeper's own live socket; the WebSocket client of scripts/load_canvas.py for the
spectators). Loopback only; every phase is bounded and the run gives up after `--timeout`.

Phases:

1. setup: `--matches` matches (an Американка of two, target 120 so none ends), each watched by
   `--spectators / --matches` sockets on `/api/billiards/matches/{id}/live`;
2. baselines, in the same run: an idle socket's ping -> pong; an idle `GET` of the templates (no
   sign-in, nothing read: the web layer's round trip); a one-row
   commit in PostgreSQL; core NATS publish -> subscribe;
3. sustained: every match's scorekeeper records a shot every `--interval` s (open loop, phases
   spread evenly; a match whose last shot is not answered yet skips its turn and counts as
   late), `--warmup` s unmeasured, then `--seconds`: shot acknowledgement (send -> 200) and
   shot -> every spectator of its match (send -> frame), p50/p99; gaps in the versions a
   spectator saw; the server's CPU;
4. `--burst`: steps of rising shots/s over the same matches (5 s each, sockets still watching)
   until the acknowledgement p99 passes 100 ms: the highest rate that kept it.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import os
import random
import sys
import time
from array import array
from collections import deque
from typing import Any

import benchkit  # scripts/ is on sys.path when this file runs
import msgspec
from bench_desk import commit_baseline, nats_baseline, pct_ms
from benchkit import cpu_ticks, say
from load_canvas import WsClient, connect

from tests.support.ws_frames import upgrade_request

TICK_S = 0.005
AMERICAN = "b111a2d5-0000-4000-8000-000000000001"


class _Head(msgspec.Struct):
    type: str
    version: int = 0
    key: str = ""
    error: str = ""


_head = msgspec.json.Decoder(_Head).decode


class Http(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.buf = bytearray()
        self.waiting: deque[asyncio.Future[tuple[int, bytes]]] = deque()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            length = 0
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line[15:])
            if len(self.buf) < end + 4 + length:
                return
            body = bytes(self.buf[end + 4 : end + 4 + length])
            status = int(head[9:12])
            del self.buf[: end + 4 + length]
            future = self.waiting.popleft()
            if not future.done():
                future.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionError("closed"))

    def request(self, raw: bytes) -> asyncio.Future[tuple[int, bytes]]:
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.transport.write(raw)
        return future


class Pool:
    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.idle: asyncio.Queue[Http] = asyncio.Queue()

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(self.size):
            _, conn = await loop.create_connection(Http, self.host, self.port)
            self.idle.put_nowait(conn)

    def raw(self, method: str, path: str, user: str | None, body: bytes = b"") -> bytes:
        who = f"X-Dev-User: {user}\r\n" if user else ""
        return (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{who}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        conn = await self.idle.get()
        try:
            if conn.transport.is_closing():  # the server closes idle keep-alive sockets
                _, conn = await asyncio.get_running_loop().create_connection(
                    Http, self.host, self.port
                )
            return await conn.request(raw)
        finally:
            self.idle.put_nowait(conn)


class Spectator(WsClient):
    def __init__(
        self, gen: Generator, index: int, request: bytes, match: int, keeper: bool = False
    ) -> None:
        super().__init__(gen, index, request)
        self.match = match
        self.keeper = keeper
        self.version = 0
        self.synced: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.gaps = 0


class Generator:
    def __init__(self, p: dict[str, Any]) -> None:
        self.p = p
        self.ids: list[str] = []
        self.sent_at: list[array[float]] = []
        self.in_flight: list[bool] = []
        self.to_spectators = array("d")
        self.acks = array("d")
        self.measuring = False
        self.errors: dict[str, int] = {}
        self.pong: asyncio.Future[float] | None = None
        self.late = 0
        self.shots = 0
        self.resyncs = 0

    def on_text(self, client: Spectator, payload: bytes, now: float) -> None:
        head = _head(payload)
        if client.keeper:
            if head.type in ("ack", "error") and head.key:
                self.answered(client.match, int(head.key[1:]), head.error, now)
            elif head.type == "synced" and not client.synced.done():
                client.synced.set_result(None)
            return
        if head.type == "update":
            if client.version and head.version != client.version + 1:
                client.gaps += 1
            client.version = head.version
            if self.measuring:
                sent = self.sent_at[client.match]
                shot = head.version - 1
                if 0 <= shot < len(sent) and sent[shot] > 0:
                    self.to_spectators.append(now - sent[shot])
        elif head.type == "synced":
            client.version = head.version
            if not client.synced.done():
                client.synced.set_result(None)
        elif head.type == "pong":
            if self.pong is not None and not self.pong.done():
                self.pong.set_result(now)
        elif head.type == "resync":
            self.resyncs += 1

    def shoot_on_socket(self, keeper: Spectator) -> None:
        """The next shot over the scorekeeper's socket; `answered` when its ack comes."""
        match = keeper.match
        self.in_flight[match] = True
        sent = self.sent_at[match]
        k = len(sent)
        sent.append(time.perf_counter())
        keeper.send_text(
            b'{"type":"shot","key":"s%d","shooter":%d,"balls":0%s}'
            % (k, (k - 1) % 2, b',"fouls":["touch"]' if k % 10 == 0 else b"")
        )

    def answered(self, match: int, k: int, error: str, now: float) -> None:
        self.in_flight[match] = False
        sent = self.sent_at[match]
        if error:
            self.errors[error] = self.errors.get(error, 0) + 1
            del sent[k:]
            return
        self.shots += 1
        if self.measuring and k < len(sent):
            self.acks.append(now - sent[k])

    async def shoot(self, pool: Pool, match: int) -> None:
        """The match's next shot: no ball (the turn passes), every tenth a foul."""
        self.in_flight[match] = True
        sent = self.sent_at[match]
        k = len(sent)
        body = (
            b'{"key":"s%d","shooter":%d,"balls":0%s}'
            % (k, (k - 1) % 2, b',"fouls":["touch"]' if k % 10 == 0 else b"")
        )
        user = f"p{match}"
        now = time.perf_counter()
        sent.append(now)
        try:
            status, answer = await pool.send(
                pool.raw("POST", f"/api/billiards/matches/{self.ids[match]}/shots", user, body)
            )
        except ConnectionError:
            status, answer = 0, b""
        finally:
            self.in_flight[match] = False
        if status != 200:
            code = json.loads(answer).get("error", str(status)) if answer else str(status)
            self.errors[code] = self.errors.get(code, 0) + 1
            sent[k] = 0.0
            del sent[k:]
            return
        self.shots += 1
        if self.measuring:
            self.acks.append(time.perf_counter() - now)


async def _loadgen(p: dict[str, Any]) -> dict[str, Any]:
    gen = Generator(p)
    host, port = p["host"], p["port"]
    pool = Pool(host, port, p["connections"])
    await pool.open()
    result: dict[str, Any] = {}
    say(f"creating {p['matches']} matches")
    template_body = json.dumps(
        {"base": "american", "name": "bench", "params": {"target": 120}}
    ).encode()
    status, answer = await pool.send(pool.raw("POST", "/api/billiards/templates", "p0", template_body))
    assert status == 201, answer
    template = json.loads(answer)["id"]

    async def create(i: int) -> None:
        body = json.dumps(
            {"template_id": template, "players": [{"name": "A", "me": True}, {"name": "B"}]}
        ).encode()
        status, answer = await pool.send(pool.raw("POST", "/api/billiards/matches", f"p{i}", body))
        assert status == 201, answer
        gen.ids[i] = json.loads(answer)["id"]

    gen.ids = [""] * p["matches"]
    gen.sent_at = [array("d", [0.0]) for _ in range(p["matches"])]  # shot k is version k + 1
    gen.in_flight = [False] * p["matches"]
    for start in range(0, p["matches"], 200):
        await asyncio.gather(*(create(i) for i in range(start, min(start + 200, p["matches"]))))
    say(f"opening {p['spectators']} spectator sockets")
    spectators: list[Spectator] = []

    async def watch(i: int) -> None:
        match = i % p["matches"]
        request = upgrade_request(host, port, f"/api/billiards/matches/{gen.ids[match]}/live")
        client = await connect(lambda: Spectator(gen, i, request, match), host, port)
        await asyncio.wait_for(client.synced, 60)
        spectators.append(client)

    for start in range(0, p["spectators"], 250):
        await asyncio.gather(*(watch(i) for i in range(start, min(start + 250, p["spectators"]))))
    keepers: list[Spectator] = []
    if p["via"] == "socket":
        say(f"opening {p['matches']} scorekeepers' sockets")

        async def keep(match: int) -> None:
            request = upgrade_request(host, port, f"/api/billiards/matches/{gen.ids[match]}/live",
                                      {"X-Dev-User": f"p{match}"})
            client = await connect(
                lambda: Spectator(gen, -1, request, match, keeper=True), host, port
            )
            await asyncio.wait_for(client.synced, 60)
            keepers.append(client)

        for start in range(0, p["matches"], 250):
            await asyncio.gather(*(keep(m) for m in range(start, min(start + 250, p["matches"]))))
        keepers.sort(key=lambda client: client.match)

    say("baselines")
    pings = []
    for _ in range(p["pings"]):
        gen.pong = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        spectators[0].send_text(b'{"type":"ping"}')
        pings.append(await asyncio.wait_for(gen.pong, 10) - t0)
    result["baseline_ping"] = pct_ms(pings, 50, 99)
    gets = []
    for _ in range(p["pings"]):
        t0 = time.perf_counter()
        await pool.send(pool.raw("GET", "/api/billiards/templates", None))
        gets.append(time.perf_counter() - t0)
    result["baseline_http_get"] = pct_ms(gets, 50, 99)
    result["baseline_pg_commit"] = await commit_baseline(p["database_url"], p["schema"])
    result["baseline_nats_pubsub"] = await nats_baseline(p["nats_url"])

    async def run_at(rate: float, seconds: float, warmup: float) -> dict[str, Any]:
        """Shots at `rate` a second over all matches, each match every `matches / rate` s."""
        period = p["matches"] / rate
        start = time.perf_counter()
        due = [(start + random.random() * period, match) for match in range(p["matches"])]
        heapq.heapify(due)
        tasks: set[asyncio.Task[None]] = set()
        t_start = time.perf_counter()
        measure_from = t_start + warmup
        end = measure_from + seconds
        ticks0 = cpu_ticks(p["server_pid"])
        shots0 = gen.shots
        measured_at = measure_from
        own0, machine0 = cpu_ticks(os.getpid()), cpu_ticks()
        while (now := time.perf_counter()) < end:
            if not gen.measuring and now >= measure_from:
                gen.measuring = True
                ticks0, shots0, measured_at = cpu_ticks(p["server_pid"]), gen.shots, now
                own0, machine0 = cpu_ticks(os.getpid()), cpu_ticks()
            while due[0][0] <= now:
                at, match = heapq.heappop(due)
                heapq.heappush(due, (at + period, match))
                if gen.in_flight[match]:
                    gen.late += 1
                    continue
                if keepers:
                    gen.shoot_on_socket(keepers[match])
                    continue
                task = asyncio.get_running_loop().create_task(gen.shoot(pool, match))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.sleep(TICK_S)
        elapsed = time.perf_counter() - measured_at
        shots = gen.shots - shots0
        cpu = cpu_ticks(p["server_pid"]) - ticks0
        own = cpu_ticks(os.getpid()) - own0
        machine = cpu_ticks() - machine0
        gen.measuring = False
        if tasks:
            await asyncio.wait(tasks, timeout=15)
        await asyncio.sleep(1.0)  # the last frames reach the spectators
        return {
            "rate_asked": rate,
            "acked_per_s": round(shots / elapsed, 1),
            "ack": pct_ms(gen.acks, 50, 99),
            "shot_to_spectator": pct_ms(gen.to_spectators, 50, 99),
            "frames_measured": len(gen.to_spectators),
            "server_cores": round(cpu / elapsed, 2),
            "loadgen_cores": round(own / elapsed, 2),
            "machine_busy_cores": round(machine / elapsed, 2),
        }

    say(f"sustained: {p['rate']} shots/s for {p['warmup']} + {p['seconds']} s")
    result["sustained"] = await run_at(p["rate"], p["seconds"], p["warmup"])
    result["sustained"]["late_skipped"] = gen.late
    result["sustained"]["errors"] = dict(gen.errors)
    result["sustained"]["spectator_gaps"] = sum(c.gaps for c in spectators)
    result["sustained"]["resyncs"] = gen.resyncs
    result["sustained"]["spectators_open"] = sum(1 for c in spectators if c.is_open)
    if p["burst"]:
        steps = []
        best = None
        rate = p["rate"]
        while rate <= p["burst_max"]:
            gen.acks, gen.to_spectators = array("d"), array("d")
            say(f"burst step: {rate} shots/s")
            step = await run_at(rate, p["burst_seconds"], 1.0)
            steps.append(step)
            p99 = step["ack"].get("p99_ms")
            if p99 is None or p99 > 100 or step["acked_per_s"] < 0.9 * rate:
                break
            best = step["acked_per_s"]
            rate = round(rate * 1.5)
        result["burst"] = {"steps": steps, "highest_shots_per_s_p99_under_100ms": best}
    for client in spectators + keepers:
        client.transport.close()
    return result


async def run_bench(run: benchkit.Run, args: argparse.Namespace) -> None:
    run.settings = await asyncio.to_thread(benchkit.resolve_settings, run)
    run.migrated = True
    port = benchkit.free_port()
    say(f"starting the server on port {port} (schema {run.schema})")
    await benchkit.start_server(run, port)
    assert run.server is not None
    params = {
        "host": "127.0.0.1",
        "port": port,
        "server_pid": run.server.pid,
        "nats_url": run.settings.nats_url,
        "database_url": run.settings.database_url,
        "schema": run.schema,
        "matches": args.matches,
        "spectators": args.spectators,
        "rate": args.matches / args.interval,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "connections": args.connections or args.matches,
        "pings": 200,
        "burst": args.burst,
        "via": args.via,
        "burst_seconds": 5.0,
        "burst_max": 20_000,
    }
    run.result.update(await benchkit.run_loadgen(run, __file__, params, args.timeout))
    run.result["server_stopped_cleanly"] = benchkit.stop_server(run, timeout=15.0)
    run.result["server_log_errors"] = benchkit.server_log_errors(run.server_log)


def headline(result: dict[str, Any]) -> dict[str, Any]:
    sustained = result.get("sustained", {})
    return {
        "shots_acked_per_s": sustained.get("acked_per_s"),
        "ack_p50_ms": sustained.get("ack", {}).get("p50_ms"),
        "ack_p99_ms": sustained.get("ack", {}).get("p99_ms"),
        "shot_to_spectator_p50_ms": sustained.get("shot_to_spectator", {}).get("p50_ms"),
        "shot_to_spectator_p99_ms": sustained.get("shot_to_spectator", {}).get("p99_ms"),
        "burst_shots_per_s_p99_under_100ms": result.get("burst", {}).get(
            "highest_shots_per_s_p99_under_100ms"
        ),
        "baseline_ping_p50_ms": result.get("baseline_ping", {}).get("p50_ms"),
        "baseline_http_get_p50_ms": result.get("baseline_http_get", {}).get("p50_ms"),
        "baseline_pg_commit_p99_ms": result.get("baseline_pg_commit", {}).get("p99_ms"),
        "baseline_nats_msgs_per_s": result.get("baseline_nats_pubsub", {}).get("per_s"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matches", type=int, default=2000)
    parser.add_argument("--spectators", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=2.0, help="s between a match's shots")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument(
        "--connections", type=int, default=0,
        help="HTTP keep-alive sockets (default: one a match, as each scorekeeper has his phone)",
    )
    parser.add_argument("--burst", action="store_true", help="then rising rates to p99 > 100 ms")
    parser.add_argument(
        "--via", choices=("http", "socket"), default="http",
        help="shots as POST …/shots, or on each scorekeeper's live socket",
    )
    parser.add_argument("--timeout", type=float, default=600, help="give up after (s)")
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen is not None:
        benchkit.loadgen_main(_loadgen, json.loads(args.loadgen))
        return 0
    run = benchkit.new_run("bench_billiards", "bench_billiards")
    started = time.perf_counter()
    machine = benchkit.machine()
    error = benchkit.run_guarded(run, run_bench(run, args), alarm_s=args.timeout + 120)
    result = benchkit.report(headline(run.result), run, error)
    result["machine"] = machine
    result["params"] = {
        "matches": args.matches,
        "spectators": args.spectators,
        "interval_s": args.interval,
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "burst": args.burst,
        "via": args.via,
    }
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
