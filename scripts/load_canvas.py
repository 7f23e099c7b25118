#!/usr/bin/env python3
"""Live canvas load test: one JSON line on stdout, progress on stderr.

    .venv/bin/python scripts/load_canvas.py [--players 1000] [--spectators 1000] [--rate 1600]
        [--seconds 20] [--burst-seconds 5]

`tessera serve` runs in a subprocess (its own schema and stream prefix, dropped at the end, rate
limits off, a high player cap); the WebSocket clients run in another subprocess, a load generator
written on raw asyncio protocols (hand-made RFC 6455 framing: its cost per frame is measured in
the run, next to the `websockets` library's sans-I/O parser). Loopback only; every phase is
bounded in time, and the whole run gives up after `--timeout`.

Phases, all against one canvas (2000x2000, no cooldown):

1. memory: the server's VmRSS before and after opening the spectators, then the players, idle;
2. baselines: one client's ping -> pong, idle; a few lone placements -> delta at every client;
3. sustained: the players place at `--rate` placements/s in all (open loop, evenly spread) for
   `--seconds`; every client's every delta frame is timed, and each placement's latency is taken
   from its send time to the arrival of the frame that holds its version at EVERY other client
   (all pairs, no sampling), as a histogram in 0.5 ms bins;
4. burst: the players place as fast as they are answered (`--inflight` per socket) for
   `--burst-seconds`: acknowledged placements/s;
5. nothing lost: every placement writes its own pixel (x, y) with its own colour; each
   acknowledged one is looked up in the final board (HTTP snapshot) and in the entries of one
   client's deltas, and every client's frames must cover every version without a gap, byte for
   byte the same as that client's (CRC32).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import socket
import sys
import time
import zlib
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import bench_canvas as bench  # scripts/ is on sys.path when this file runs
import benchkit
from benchkit import cpu_ticks, http_json, percentile_ms, say

from tests.support.ws_frames import (
    BINARY,
    CLOSE,
    PING,
    PONG,
    TEXT,
    client_frame,
    close_code,
    next_frame,
    upgrade_request,
)

WIDTH = HEIGHT = bench.WIDTH
PIXELS = WIDTH * HEIGHT
STRIDE = 1_000_003  # prime to 2 and 5: k -> k * STRIDE mod PIXELS visits every pixel once
HEADER = bench.DELTA_HEADER
BIN_S = 0.0005  # latency histogram: 0.5 ms bins ...
BINS = 20_000  # ... up to 10 s (the last bin holds everything beyond)


def pixel_of(k: int) -> tuple[int, int, int]:
    """Placement k's own pixel and colour (never 0: the blank board's colour)."""
    index = (k * STRIDE) % PIXELS
    return index % WIDTH, index // WIDTH, 1 + k % 31


def services_ticks() -> float:
    """CPU seconds of every PostgreSQL and nats-server process on the machine."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if name.startswith(("postgres", "nats-server")):
            ticks = cpu_ticks(int(entry.name))
            if not math.isnan(ticks):
                total += ticks
    return total


def vm_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# ================================================================================================
# The load generator's WebSocket client
# ================================================================================================


class WsClient(asyncio.Protocol):
    """One client socket (an asyncio protocol): handshake, then frames in, text frames out.

    Every binary frame is recorded as (from, to, arrival, crc32); text frames go to the generator.
    """

    def __init__(self, gen: Generator, index: int, request: bytes, *, keep: bool = False) -> None:
        self.gen = gen
        self.index = index
        self.request = request
        self.keep = keep  # keep the payloads (the content check)
        self.transport: Any = None
        self.buf = bytearray()
        self.handshaken = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.froms = array("q")
        self.tos = array("q")
        self.arrivals = array("d")
        self.crcs = array("L")
        self.payloads: dict[int, bytes] = {}
        self.bad_frames = 0
        self.resyncs = 0
        self.inflight = 0

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buf = self.buf
        buf += data
        if not self.handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                self.transport.close()
                return
            self.handshaken = True
            self.opened.set_result(None)
        self.parse(now)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def eof_received(self) -> bool:
        return False

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass

    # -- frames ------------------------------------------------------------------------------

    def parse(self, now: float) -> None:
        buf = self.buf
        size = len(buf)
        at = 0
        while (frame := next_frame(buf, at, size)) is not None:
            opcode, start, at = frame
            if opcode == BINARY:
                self.binary(buf, start, at, now)
            elif opcode == TEXT:
                self.gen.on_text(self, bytes(buf[start:at]), now)
            elif opcode == CLOSE:
                self.close_code = close_code(buf, start, at)
                self.transport.close()
            elif opcode == PING:  # answer with a pong carrying its payload
                self.transport.write(client_frame(PONG, bytes(buf[start:at])))
        if at:
            del buf[:at]

    def binary(self, buf: bytearray, start: int, end: int, now: float) -> None:
        payload = bytes(buf[start:end])
        from_version, to_version = HEADER.unpack_from(payload)
        if end - start != HEADER.size + 4 * (to_version - from_version):
            self.bad_frames += 1  # only placements on this canvas: one entry a version
        self.froms.append(from_version)
        self.tos.append(to_version)
        self.arrivals.append(now)
        self.crcs.append(zlib.crc32(payload))
        if self.keep:
            self.payloads[from_version] = payload

    def send_text(self, payload: bytes) -> None:
        self.transport.write(client_frame(TEXT, payload))

    @property
    def is_open(self) -> bool:
        return self.handshaken and not self.closed.done()


Client = TypeVar("Client", bound=WsClient)


async def connect(new_client: Callable[[], Client], host: str, port: int, tries: int = 5) -> Client:
    """A client from `new_client()`, connected to `host:port` past the WebSocket handshake, with
    TCP_NODELAY. A refused, reset or slow connection is tried again with a fresh client, a little
    later each time, `tries` times in all."""
    loop = asyncio.get_running_loop()
    for attempt in range(tries):
        client = new_client()
        try:
            await loop.create_connection(lambda c=client: c, host, port)  # type: ignore[misc]
            await asyncio.wait_for(client.opened, 30)
        except (OSError, ConnectionError, TimeoutError):
            if client.transport is not None:
                client.transport.close()
            if attempt == tries - 1:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
            continue
        sock = client.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return client
    raise AssertionError("unreachable")


def parse_cost(frames: int = 20_000, entries: int = 160) -> dict[str, float]:
    """µs a frame for this client's parser and for `websockets`' sans-I/O protocol, on the same
    stream of server frames (the lighter one is the one used here)."""
    from websockets.frames import Frame, Opcode
    from websockets.protocol import Protocol, Side

    payload = HEADER.pack(1, 1 + entries) + os.urandom(4 * entries)
    one = Frame(Opcode.BINARY, payload).serialize(mask=False)
    stream = one * frames
    chunks = [stream[i : i + 8192] for i in range(0, len(stream), 8192)]

    class _Sink:
        def on_text(self, *_: Any) -> None:
            pass

    async def ours() -> float:
        client = WsClient(_Sink(), 0, b"")  # type: ignore[arg-type]
        client.handshaken = True
        t0 = time.perf_counter()
        for chunk in chunks:
            client.buf += chunk
            client.parse(0.0)
        elapsed = time.perf_counter() - t0
        assert len(client.tos) == frames
        return elapsed

    ours_s = asyncio.run(ours())
    protocol = Protocol(Side.CLIENT, max_size=None)
    count = 0
    t0 = time.perf_counter()
    for chunk in chunks:
        protocol.receive_data(chunk)
        for frame in protocol.events_received():
            HEADER.unpack_from(frame.data)
            zlib.crc32(frame.data)
            count += 1
    theirs_s = time.perf_counter() - t0
    assert count == frames
    return {
        "raw_asyncio": round(ours_s / frames * 1e6, 2),
        "websockets_sansio": round(theirs_s / frames * 1e6, 2),
    }


# ================================================================================================
# The load generator (a subprocess: `--loadgen '<json params>'`)
# ================================================================================================


class NatsTap:
    """The deltas as the projection publishes them on core NATS, before any fan-out: the
    baseline that the sockets' latencies are compared with."""

    def __init__(self) -> None:
        self.index = -1_000  # never a sender
        self.froms = array("q")
        self.tos = array("q")
        self.arrivals = array("d")

    async def on_delta(self, message: Any) -> None:
        now = time.perf_counter()
        from_version, to_version = HEADER.unpack_from(message.data)
        self.froms.append(from_version)
        self.tos.append(to_version)
        self.arrivals.append(now)


class Generator:
    def __init__(self, p: dict[str, Any]) -> None:
        self.p = p
        self.host, self.port, self.canvas_id = p["host"], p["port"], p["canvas_id"]
        capacity = p["capacity"]
        self.sent_at = [math.nan] * capacity
        self.acked_at = [math.nan] * capacity
        self.version_of = [0] * capacity
        self.sender = [-1] * capacity
        self.next_k = 0
        self.acks = 0
        self.errors: dict[str, int] = {}
        self.error_samples: list[str] = []
        self.statuses = 0
        self.pongs: list[float] = []
        self.ping_sent = 0.0
        self.pong_waiter: asyncio.Future[float] | None = None
        self.spectators: list[WsClient] = []
        self.players: list[WsClient] = []
        self.ack_waiters: dict[int, asyncio.Future[int]] = {}
        self.burst_until = 0.0
        self.burst_sent = 0
        self.unknown_text = 0

    @property
    def clients(self) -> list[WsClient]:
        return self.spectators + self.players

    def handshake(self, user: str | None) -> bytes:
        return upgrade_request(self.host, self.port, f"/api/canvas/{self.canvas_id}/live",
                               None if user is None else {"X-Dev-User": user})

    async def open(self, index: int, user: str | None, *, keep: bool = False) -> WsClient:
        request = self.handshake(user)
        return await connect(
            lambda: WsClient(self, index, request, keep=keep), self.host, self.port
        )

    async def open_many(self, first: int, count: int, users: bool, keep: int) -> list[WsClient]:
        gate = asyncio.Semaphore(self.p["connect_concurrency"])

        async def one(i: int) -> WsClient:
            async with gate:
                user = f"load-{i}" if users else None
                return await self.open(i, user, keep=(i - first) < keep)

        return list(await asyncio.gather(*(one(first + i) for i in range(count))))

    # -- what clients send and hear ------------------------------------------------------------

    def place(self, client: WsClient) -> int:
        k = self.next_k
        self.next_k = k + 1
        x, y, colour = pixel_of(k)
        client.inflight += 1
        self.sender[k] = client.index
        self.sent_at[k] = time.perf_counter()
        client.send_text(
            b'{"type":"place","x":%d,"y":%d,"colour":%d,"op":"%d"}' % (x, y, colour, k)
        )
        return k

    def on_text(self, client: WsClient, payload: bytes, now: float) -> None:
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "ack":
            k = int(message["op"])
            self.version_of[k] = message["version"]
            self.acked_at[k] = now
            self.acks += 1
            client.inflight -= 1
            waiter = self.ack_waiters.pop(k, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message["version"])
            if now < self.burst_until:  # the burst: one answered, the next goes out
                self.place(client)
                self.burst_sent += 1
        elif kind == "error":
            code = str(message.get("error"))
            self.errors[code] = self.errors.get(code, 0) + 1
            if len(self.error_samples) < 5:
                self.error_samples.append(payload[:300].decode(errors="replace"))
            if message.get("op") is not None:
                client.inflight -= 1
                waiter = self.ack_waiters.pop(int(message["op"]), None)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(RuntimeError(code))
        elif kind == "resync":
            client.resyncs += 1
        elif kind == "status":
            self.statuses += 1
        elif kind == "pong":
            self.pongs.append(now - self.ping_sent)
            if self.pong_waiter is not None and not self.pong_waiter.done():
                self.pong_waiter.set_result(now)
        else:
            self.unknown_text += 1

    async def ping(self, client: WsClient) -> float:
        self.pong_waiter = asyncio.get_running_loop().create_future()
        self.ping_sent = time.perf_counter()
        client.send_text(b'{"type":"ping"}')
        await asyncio.wait_for(self.pong_waiter, 10)
        return self.pongs[-1]

    def highest_version(self, ks: range) -> int:
        return max((self.version_of[k] for k in ks), default=0)

    async def until_delivered(self, version: int, timeout: float) -> bool:
        """Wait until every open client has frames up to `version`."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if all(c.tos and c.tos[-1] >= version for c in self.clients if c.is_open):
                return True
            await asyncio.sleep(0.05)
        return False


async def _loadgen(p: dict[str, Any]) -> dict[str, Any]:
    gen = Generator(p)
    result: dict[str, Any] = {}
    server_pid = p["server_pid"]
    perf = time.perf_counter

    helper_pids = p["helper_pids"]

    def usage() -> tuple[float, float, float, float, float]:
        return (
            cpu_ticks(server_pid),
            sum(cpu_ticks(pid) for pid in helper_pids),
            cpu_ticks(os.getpid()),
            services_ticks(),
            cpu_ticks(),
        )

    def cores(
        before: tuple[float, ...], after: tuple[float, ...], seconds: float
    ) -> dict[str, Any]:
        """CPU cores used; `other` is what the rest of the machine took meanwhile."""
        names = ("server", "relay_and_projections", "loadgen", "postgres_and_nats", "machine_busy")
        used = {
            n: round((b - a) / seconds, 2) for n, a, b in zip(names, before, after, strict=True)
        }
        used["other"] = round(used["machine_busy"] - sum(used[n] for n in names[:4]), 2)
        if not helper_pids:
            del used["relay_and_projections"]  # in the server
        return used

    import nats

    tap = NatsTap()
    nc = await nats.connect(p["nats_url"], name="load-tap", max_reconnect_attempts=3)
    await nc.subscribe(p["delta_subject"], cb=tap.on_delta, pending_msgs_limit=1_000_000)
    await nc.flush()

    # -- 1. memory -------------------------------------------------------------------------------
    say("warm-up: one spectator, one player, a placement")
    spectator = await gen.open(-1, None)
    player = await gen.open(-2, "load-warmup")
    gen.ack_waiters[gen.next_k] = asyncio.get_running_loop().create_future()
    waiter = gen.ack_waiters[gen.next_k]
    gen.place(player)
    await asyncio.wait_for(waiter, 30)
    await gen.ping(spectator)
    for client in (spectator, player):
        client.transport.close()
    await asyncio.sleep(1.0)
    rss0 = vm_rss_kb(server_pid)
    spectators, players = p["spectators"], p["players"]
    say(f"opening {spectators} spectators (server VmRSS {rss0} kB)")
    t0 = perf()
    gen.spectators = await gen.open_many(0, spectators, users=False, keep=1)
    await asyncio.sleep(p["settle"])
    rss1 = vm_rss_kb(server_pid)
    say(f"opening {players} players (server VmRSS {rss1} kB)")
    gen.players = await gen.open_many(spectators, players, users=True, keep=0)
    connect_s = perf() - t0
    await asyncio.sleep(p["settle"])
    rss2 = vm_rss_kb(server_pid)
    total = spectators + players
    say(f"{total} open in {connect_s:.1f} s; server VmRSS {rss2} kB")
    result["memory"] = {
        "rss_before_kb": rss0,
        "rss_spectators_kb": rss1,
        "rss_all_kb": rss2,
        "kb_per_idle_connection": round((rss2 - rss0) / total, 2) if total else None,
        "kb_per_idle_spectator": round((rss1 - rss0) / spectators, 2) if spectators else None,
        "kb_per_idle_player": round((rss2 - rss1) / players, 2) if players else None,
        "connect_s": round(connect_s, 2),
    }
    if not gen.players:
        raise RuntimeError("no players: nothing to place")
    pinger = gen.spectators[-1] if gen.spectators else gen.players[-1]

    # -- 2. baselines ----------------------------------------------------------------------------
    echo = [await gen.ping(pinger) for _ in range(p["pings"])]
    result["baseline_echo_p50_ms"] = percentile_ms(echo, 50)
    result["baseline_echo_p99_ms"] = percentile_ms(echo, 99)
    lone_first = gen.next_k
    for i in range(p["lone"]):
        k = gen.next_k
        gen.ack_waiters[k] = asyncio.get_running_loop().create_future()
        waiter = gen.ack_waiters[k]
        gen.place(gen.players[i % len(gen.players)])
        version = await asyncio.wait_for(waiter, 30)
        await gen.until_delivered(version, 10)
        await asyncio.sleep(0.05)
    lone = range(lone_first, gen.next_k)

    # -- 3. sustained ----------------------------------------------------------------------------
    rate, seconds = p["rate"], p["seconds"]
    say(f"sustained: {rate}/s for {seconds:g} s from {len(gen.players)} players")
    gen.pongs = []
    stop_pinging = asyncio.Event()

    async def pinging() -> None:
        while not stop_pinging.is_set():
            with contextlib.suppress(TimeoutError):
                await gen.ping(pinger)
            await asyncio.sleep(0.1)

    pinger_task = asyncio.create_task(pinging())
    sustained_first = gen.next_k
    acks_before = gen.acks
    before = usage()
    start = perf()
    turn = 0
    n_players = len(gen.players)
    while True:
        elapsed = perf() - start
        if elapsed >= seconds:
            break
        due = int(elapsed * rate) - (gen.next_k - sustained_first)
        for _ in range(due):
            gen.place(gen.players[turn % n_players])
            turn += 1
        await asyncio.sleep(0.002)
    sent_s = perf() - start
    sustained = range(sustained_first, gen.next_k)
    # The last acknowledgements and deltas: bounded waits.
    deadline = perf() + 10
    while any(c.inflight for c in gen.players) and perf() < deadline:
        await asyncio.sleep(0.02)
    acked_s = perf() - start
    after = usage()
    stop_pinging.set()
    await pinger_task
    sustained_echo = list(gen.pongs)
    delivered = await gen.until_delivered(gen.highest_version(sustained), 10)
    acked = gen.acks - acks_before
    result["sustained"] = {
        "placements_sent": len(sustained),
        "placements_acked": acked,
        "sent_per_s": round(len(sustained) / sent_s, 1),
        "acked_per_s": round(acked / acked_s, 1),
        "all_delivered_within_10s": delivered,
        "cpu_cores": cores(before, after, acked_s),
        "echo_p50_ms": percentile_ms(sustained_echo, 50),
        "echo_p99_ms": percentile_ms(sustained_echo, 99),
    }

    # -- 4. burst --------------------------------------------------------------------------------
    burst_seconds, inflight = p["burst_seconds"], p["inflight"]
    burst: range = range(0)
    if burst_seconds > 0:
        say(
            f"burst: {inflight} in flight on each of {len(gen.players)} players, {burst_seconds:g} s"
        )
        burst_first = gen.next_k
        acks_before = gen.acks
        before = usage()
        start = perf()
        gen.burst_until = start + burst_seconds
        for client in gen.players:
            for _ in range(inflight):
                gen.place(client)
        await asyncio.sleep(burst_seconds)
        acked_in_window = gen.acks - acks_before
        window_s = perf() - start
        after = usage()
        deadline = perf() + 15
        while any(c.inflight for c in gen.players) and perf() < deadline:
            await asyncio.sleep(0.02)
        burst = range(burst_first, gen.next_k)
        delivered = await gen.until_delivered(gen.highest_version(burst), 15)
        result["burst"] = {
            "placements_sent": len(burst),
            "placements_acked": gen.acks - acks_before,
            "acked_per_s": round(acked_in_window / window_s, 1),
            "unanswered": sum(c.inflight for c in gen.players),
            "all_delivered_within_15s": delivered,
            "cpu_cores": cores(before, after, window_s),
        }

    # -- 5. nothing lost, and the latencies ------------------------------------------------------
    await asyncio.sleep(0.5)
    say("checking the board and every client's deltas")
    result.update(await verify(gen))
    phases = {"lone": lone, "sustained": sustained, "burst": burst}
    for name, ks in phases.items():
        if ks:
            result[f"{name}_latency"] = latencies(gen, ks, gen.clients)
            result[f"{name}_nats_delta_latency"] = latencies(gen, ks, [tap])
            result[f"{name}_ack_latency"] = ack_latencies(gen, ks)
    result["sustained_nats_delta_p99_ms_by_second"] = by_second(gen, sustained, tap)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(nc.close(), 5)
    result["errors"] = gen.errors
    result["error_samples"] = gen.error_samples
    result["status_frames"] = gen.statuses
    result["unknown_text_frames"] = gen.unknown_text
    for client in gen.clients:
        client.transport.close()
    return result


async def verify(gen: Generator) -> dict[str, Any]:
    """Every acknowledged placement in the final board and in the deltas, every client's deltas
    complete and the same bytes."""
    import numpy as np

    base = f"http://{gen.host}:{gen.port}/api/canvas/{gen.canvas_id}"
    acked = [k for k in range(gen.next_k) if gen.version_of[k]]
    top = max((gen.version_of[k] for k in acked), default=0)
    # The read model follows the store: wait (bounded) until it has the last acknowledged one.
    meta: dict[str, Any] = {}
    deadline = time.perf_counter() + 20
    while time.perf_counter() < deadline:
        status, meta = await asyncio.to_thread(http_json, "GET", base)
        if status == 200 and meta["version"] >= top:
            break
        await asyncio.sleep(0.2)
    version = meta["version"]
    status, board_bytes = await asyncio.to_thread(_get_bytes, f"{base}/snapshot/{version}")
    if status != 200:
        raise RuntimeError(f"snapshot {version}: {status}")
    board = np.frombuffer(board_bytes, dtype=np.uint8)
    ks = np.asarray(acked, dtype=np.int64)
    index = (ks * STRIDE) % PIXELS
    colour = (1 + ks % 31).astype(np.uint8)
    missing_from_board = int(np.count_nonzero(board[index] != colour))
    painted = int(np.count_nonzero(board))

    # One client's entries, version by version, against what was placed.
    checker = next((c for c in gen.clients if c.payloads), None)
    missing_from_deltas = None
    if checker is not None:
        entries = np.zeros(top + 1, dtype=np.uint32)
        seen = np.zeros(top + 1, dtype=bool)
        for from_version, payload in checker.payloads.items():
            values = np.frombuffer(payload, dtype="<u4", offset=HEADER.size)
            to_version = min(from_version + values.size, top)
            if to_version > from_version:
                entries[from_version + 1 : to_version + 1] = values[: to_version - from_version]
                seen[from_version + 1 : to_version + 1] = True
        versions = np.asarray([gen.version_of[k] for k in acked], dtype=np.int64)
        expected = (index.astype(np.uint32) << 5) | colour.astype(np.uint32)
        first = checker.froms[0] if checker.froms else top
        later = versions > first  # versions before it joined are not its business
        ok = seen[versions] & (entries[versions] == expected)
        missing_from_deltas = int(np.count_nonzero(~ok & later))

    # Every client: contiguous frames up to the top, the same bytes as everyone else's.
    reference: dict[tuple[int, int], int] = {}
    for client in gen.clients:
        for f, t, crc in zip(client.froms, client.tos, client.crcs, strict=True):
            reference.setdefault((f, t), crc)
    clients_with_gaps = 0
    missing_pairs = 0
    crc_mismatches = 0
    short = 0
    for client in gen.clients:
        tos, froms = client.tos, client.froms
        gaps = sum(1 for i in range(1, len(tos)) if froms[i] != tos[i - 1])
        missing_pairs += sum(max(0, froms[i] - tos[i - 1]) for i in range(1, len(tos)))
        clients_with_gaps += gaps > 0
        if not tos or tos[-1] < top:
            short += 1
        crc_mismatches += sum(
            1 for f, t, crc in zip(froms, tos, client.crcs, strict=True) if reference[(f, t)] != crc
        )
    return {
        "acked_total": len(acked),
        "final_version": version,
        "lost_from_board": missing_from_board,
        "painted_pixels": painted,
        "lost_from_deltas": missing_from_deltas,
        "clients": len(gen.clients),
        "clients_open_at_end": sum(c.is_open for c in gen.clients),
        "clients_closed": {
            str(code): sum(1 for c in gen.clients if c.close_code == code)
            for code in {c.close_code for c in gen.clients if c.close_code is not None}
        },
        "clients_with_gaps": clients_with_gaps,
        "versions_missed_in_gaps": missing_pairs,
        "clients_short_of_final_version": short,
        "frames_differing_between_clients": crc_mismatches,
        "frames_malformed": sum(c.bad_frames for c in gen.clients),
        "resyncs": sum(c.resyncs for c in gen.clients),
        "frames_received": sum(len(c.tos) for c in gen.clients),
    }


def _get_bytes(url: str) -> tuple[int, bytes]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


def by_second(gen: Generator, ks: range, tap: NatsTap) -> list[float | None]:
    """Placement -> delta on NATS, p99 of the placements sent in each second: where the tail
    comes from (a steady one, or spikes)."""
    import bisect

    if not ks:
        return []
    tos = list(tap.tos)
    start = gen.sent_at[ks[0]]
    seconds: dict[int, list[float]] = {}
    for k in ks:
        version = gen.version_of[k]
        i = bisect.bisect_left(tos, version)
        if version and i < len(tos) and tap.froms[i] < version:
            second = int(gen.sent_at[k] - start)
            seconds.setdefault(second, []).append(tap.arrivals[i] - gen.sent_at[k])
    return [percentile_ms(seconds.get(i, []), 99) for i in range(max(seconds, default=-1) + 1)]


def ack_latencies(gen: Generator, ks: range) -> dict[str, Any]:
    samples = [gen.acked_at[k] - gen.sent_at[k] for k in ks if gen.version_of[k]]
    return {"p50_ms": percentile_ms(samples, 50), "p99_ms": percentile_ms(samples, 99)}


def latencies(gen: Generator, ks: range, clients: list[Any]) -> dict[str, Any]:
    """Send -> arrival at every client but the sender, for every acknowledged placement in `ks`,
    from each client's recorded frames: a histogram over all (placement, client) pairs."""
    import numpy as np

    versions = np.asarray([gen.version_of[k] for k in ks], dtype=np.int64)
    sent = np.asarray([gen.sent_at[k] for k in ks], dtype=np.float64)
    senders = np.asarray([gen.sender[k] for k in ks], dtype=np.int64)
    acked = versions > 0
    versions, sent, senders = versions[acked], sent[acked], senders[acked]
    if versions.size == 0:
        return {"pairs": 0}
    top = int(versions.max())
    sent_by_version = np.full(top + 1, np.nan)
    sent_by_version[versions] = sent
    sender_by_version = np.full(top + 1, -10, dtype=np.int64)
    sender_by_version[versions] = senders
    low = int(versions.min())

    # All clients' frames that hold any of these versions, grouped by (from, to).
    froms, tos, arrivals, owners = [], [], [], []
    for client in clients:
        f = np.frombuffer(client.froms, dtype=np.int64)
        t = np.frombuffer(client.tos, dtype=np.int64)
        useful = (t >= low) & (f < top)
        if useful.any():
            froms.append(f[useful])
            tos.append(t[useful])
            arrivals.append(np.frombuffer(client.arrivals, dtype=np.float64)[useful])
            owners.append(np.full(int(useful.sum()), client.index, dtype=np.int64))
    hist = np.zeros(BINS, dtype=np.int64)
    if not froms:
        return {"pairs": 0}
    f_all, t_all = np.concatenate(froms), np.concatenate(tos)
    a_all, o_all = np.concatenate(arrivals), np.concatenate(owners)
    order = np.lexsort((t_all, f_all))
    f_all, t_all, a_all, o_all = f_all[order], t_all[order], a_all[order], o_all[order]
    cuts = np.flatnonzero((np.diff(f_all) != 0) | (np.diff(t_all) != 0)) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [f_all.size]))
    pairs = 0
    worst = 0.0
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        f, t = int(f_all[s]), min(int(t_all[s]), top)
        sends = sent_by_version[f + 1 : t + 1]
        mine = ~np.isnan(sends)
        if not mine.any():
            continue
        sends = sends[mine]
        who = sender_by_version[f + 1 : t + 1][mine]
        group_arrivals = a_all[s:e]
        group_owners = o_all[s:e]
        lat = group_arrivals[:, None] - sends[None, :]
        # Not the sender itself: "to every OTHER client".
        lat = lat[group_owners[:, None] != who[None, :]]
        if lat.size == 0:
            continue
        pairs += lat.size
        worst = max(worst, float(lat.max()))
        bins = np.clip((lat / BIN_S).astype(np.int64), 0, BINS - 1)
        hist += np.bincount(bins, minlength=BINS)

    def q(fraction: float) -> float:
        rank = math.ceil(fraction * pairs)
        return round((int(np.searchsorted(np.cumsum(hist), rank)) + 1) * BIN_S * 1000, 1)

    return {
        "placements": int(versions.size),
        "pairs": pairs,
        "p50_ms": q(0.50),
        "p90_ms": q(0.90),
        "p99_ms": q(0.99),
        "p999_ms": q(0.999),
        "max_ms": round(worst * 1000, 1),
    }


def loadgen_main(params: dict[str, Any]) -> None:
    from infra.tuning import tune_process

    tune_process()
    benchkit.loadgen_main(_loadgen, params)


# ================================================================================================
# The run: server, canvas, load generator, clean-up
# ================================================================================================

SERVER_ENV = {
    "TESSERA_PLAYER_CAP": "1000000",  # everyone plays: the cap is not what is measured here
    "TESSERA_AFK_AFTER_S": "3600",
}


async def run_load(run: benchkit.Run, args: argparse.Namespace) -> None:
    run.settings = await asyncio.to_thread(benchkit.resolve_settings, run)
    say(f"PostgreSQL {run.settings.database_url}, NATS {run.settings.nats_url}")
    run.migrated = True  # `tessera serve` migrates: from here on, the schema may exist
    os.environ.update(SERVER_ENV)  # the server is started with this process's environment
    for item in args.server_env:
        name, _, value = item.partition("=")
        os.environ[name] = value
    port = benchkit.free_port()
    if args.split_roles:
        say(f"starting relay, projections and an API node on port {port} (schema {run.schema})")
        await benchkit.start_split(run, [port])
    else:
        say(f"starting the server on port {port} (schema {run.schema})")
        await benchkit.start_server(run, port)
    canvas_id = await bench.create_canvas(port, "load-admin")
    assert run.server is not None
    seconds = args.seconds
    params = {
        "host": "127.0.0.1",
        "port": port,
        "canvas_id": canvas_id,
        "server_pid": run.server.pid,
        "helper_pids": [helper.pid for helper in run.helpers],
        "nats_url": run.settings.nats_url,
        "delta_subject": run.settings.delta_subject(canvas_id),
        "players": args.players,
        "spectators": args.spectators,
        "rate": args.rate,
        "seconds": seconds,
        "burst_seconds": args.burst_seconds,
        "inflight": args.inflight,
        "capacity": int(args.rate * seconds * 1.5) + 40_000 * int(args.burst_seconds + 1) + 1000,
        "connect_concurrency": 64,
        "settle": 2.0,
        "pings": 200,
        "lone": 20,
    }
    run.result.update(await benchkit.run_loadgen(run, __file__, params, args.timeout))
    run.result["server_alive_after"] = run.server is not None and run.server.poll() is None
    t0 = time.perf_counter()
    run.result["server_stopped_cleanly"] = benchkit.stop_server(run, timeout=15.0)
    run.result["server_stop_s"] = round(time.perf_counter() - t0, 2)
    run.result["server_log_errors"] = benchkit.server_log_errors(run.server_log)


def headline(result: dict[str, Any]) -> dict[str, Any]:
    sustained = result.get("sustained_latency", {})
    memory = result.get("memory", {})
    return {
        "connections": result.get("clients"),
        "connections_open_at_end": result.get("clients_open_at_end"),
        "sustained_acked_per_s": result.get("sustained", {}).get("acked_per_s"),
        "delivery_p50_ms": sustained.get("p50_ms"),
        "delivery_p99_ms": sustained.get("p99_ms"),
        "delivery_pairs": sustained.get("pairs"),
        "burst_acked_per_s": result.get("burst", {}).get("acked_per_s"),
        "lost_from_board": result.get("lost_from_board"),
        "lost_from_deltas": result.get("lost_from_deltas"),
        "resyncs": result.get("resyncs"),
        "kb_per_idle_connection": memory.get("kb_per_idle_connection"),
        "baseline_echo_p50_ms": result.get("baseline_echo_p50_ms"),
        "baseline_lone_delivery_p50_ms": result.get("lone_latency", {}).get("p50_ms"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--spectators", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1600, help="placements/s, all players")
    parser.add_argument("--seconds", type=float, default=20, help="the sustained phase")
    parser.add_argument("--burst-seconds", type=float, default=5, help="0: no burst")
    parser.add_argument("--inflight", type=int, default=4, help="burst: placements a socket")
    parser.add_argument("--timeout", type=float, default=600, help="give up after (s)")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the server (e.g. TESSERA_DELTA_INTERVAL_MS=50)",
    )
    parser.add_argument(
        "--split-roles",
        action="store_true",
        help="relay and projections in processes of their own; the clients on `tessera api`",
    )
    parser.add_argument("--server-log", type=Path, help="keep the server's log at this path")
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen is not None:
        loadgen_main(json.loads(args.loadgen))
        return 0
    run = benchkit.new_run("load_canvas", "load")
    started = time.perf_counter()
    machine = benchkit.machine()
    say("client parser cost (µs a frame)")
    parse = parse_cost()
    error = benchkit.run_guarded(
        run, run_load(run, args), alarm_s=args.timeout + 120, keep_log=args.server_log
    )
    result = benchkit.report(headline(run.result), run, error)
    result["client_parse_us_per_frame"] = parse
    result["machine"] = machine
    result["params"] = {
        "players": args.players,
        "spectators": args.spectators,
        "rate": args.rate,
        "seconds": args.seconds,
        "burst_seconds": args.burst_seconds,
        "inflight": args.inflight,
        "split_roles": args.split_roles,
        "server_env": dict(SERVER_ENV, **dict(e.partition("=")[::2] for e in args.server_env)),
        "canvas": f"{WIDTH}x{HEIGHT}",
    }
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
