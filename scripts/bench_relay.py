#!/usr/bin/env python3
"""Relay rooms benchmark: one JSON line on stdout, progress on stderr.

    .venv/bin/python scripts/bench_relay.py [--rooms 500] [--clients 8] [--rate 10]
        [--bytes 64] [--seconds 10] [--warmup 3] [--fanout 200] [--timeout 400]

`tessera serve` runs in a subprocess (its own schema and stream prefix, dropped at the end); the
clients run in another subprocess, on raw asyncio protocols (a hand-written WebSocket client:
frames parsed in place, no protobuf objects on the hot path). Loopback only; every phase is
bounded in time and the run gives up after `--timeout`.

Phases:

1. baseline: a bare WebSocket echo server (the `websockets` library, in a subprocess of its own)
   and as many sockets as the relay gets, sending the same payloads so that as many messages
   come back a second as the relay is to deliver: delivered/s, round-trip p50/p99;
2. idle memory: the server's RSS before and after `--rooms` x `--clients` sockets connected and
   joined (`REQUEST_CONNECT`), per connection; connects per second while they join;
3. sustained: every room's host broadcasts `--bytes`-byte messages at `--rate` a second (open
   loop): delivered/s, host -> client latency p50/p99, lost and out-of-order per sender, the
   server's CPU; then the rate steps up until p99 > 100 ms or deliveries fall below 95 % of what
   was sent (the highest rate that held is reported);
4. slow readers (before the steps up): the same at `--rate`, with one extra client in every
   tenth room that never reads: the others' p99 beside phase 3's
   (`slow_readers_p99_over_sustained`);
5. recording: the same at `--rate` in rooms created with `"record": true`;
6. fan-out: one room of `--fanout` clients, the host broadcasting 50 messages a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import sys
import time
from array import array
from typing import Any

import benchkit  # scripts/ is on sys.path when this file runs
from benchkit import cpu_ticks, say

from tests.support.ws_frames import BINARY, client_frame, next_frame, upgrade_request

STAMP = struct.Struct("<dII")
"""A relayed message's first bytes: its send time (perf_counter), its room, its sequence."""
TICK_S = 0.005


def vm_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct_ms(samples: array[float], *qs: float) -> dict[str, float | None]:
    import numpy as np

    if not len(samples):
        return {f"p{q:g}_ms": None for q in qs}
    values = np.frombuffer(samples, dtype=np.float64)
    return {f"p{q:g}_ms": round(float(np.percentile(values, q)) * 1000, 2) for q in qs}


# ================================================================================================
# The load generator's client
# ================================================================================================


class Client(asyncio.Protocol):
    """One socket: handshake, then binary frames; relayed messages are timed in place."""

    def __init__(self, gen: Gen, room: int) -> None:
        self.gen = gen
        self.room = room
        self.port = gen.port
        self.transport: Any = None
        self.buf = bytearray()
        self.open = asyncio.get_running_loop().create_future()
        self.answer: asyncio.Future[bytes] | None = None
        self.handshaken = False
        self.closed = False
        self.seq = 0
        self.last_seq: dict[int, int] = {}

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(upgrade_request("127.0.0.1", self.gen.port, self.gen.path.decode()))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.open.done():
            self.open.set_exception(ConnectionError("closed"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            ok = buf.startswith(b"HTTP/1.1 101")
            del buf[: end + 4]
            self.handshaken = True
            if ok:
                self.open.set_result(None)
            else:
                self.open.set_exception(ConnectionError("refused"))
                return
        now = time.perf_counter()
        size, at = len(buf), 0
        gen = self.gen
        while (frame := next_frame(buf, at, size)) is not None:
            opcode, start, end = frame
            if buf[start] == 0x08 and buf[start + 1] == 0x06:  # RESPONSE_RELAY_MESSAGE
                sent, room, seq = STAMP.unpack_from(buf, start + 6)
                gen.delivered += 1
                if gen.measuring:
                    gen.latencies.append(now - sent)
                last = self.last_seq.get(room, -1)
                if seq != last + 1 and last != -1:
                    gen.lost_or_reordered += 1
                self.last_seq[room] = seq
            elif opcode == BINARY:
                gen.other(self, bytes(buf[start:end]))
            at = end
        if at:
            del buf[:at]

    def send(self, payload: bytes) -> None:
        self.transport.write(client_frame(BINARY, payload))


class Gen:
    """The generator's state: its clients and what they measured."""

    def __init__(self, port: int, path: bytes = b"/v1/websocket", prefix: bytes = b"") -> None:
        self.port = port
        self.path = path
        self.prefix = prefix
        """Put before each sent payload: the echo gets `08 06` so its answers parse as relayed."""
        self.latencies = array("d")
        self.delivered = 0
        self.lost_or_reordered = 0
        self.measuring = False
        self.errors = 0

    def other(self, client: Client, payload: bytes) -> None:
        if payload[:2] == b"\x08\x0d":
            self.errors += 1
        if client.answer is not None and not client.answer.done():
            client.answer.set_result(payload)


async def open_client(gen: Gen, room: int, port: int | None = None) -> Client:
    loop = asyncio.get_running_loop()
    for attempt in range(5):
        client = Client(gen, room)
        try:
            await loop.create_connection(lambda c=client: c, "127.0.0.1", port or gen.port)  # type: ignore[misc]
            await asyncio.wait_for(client.open, 30)
            return client
        except (OSError, ConnectionError, TimeoutError):
            await asyncio.sleep(0.2 * (attempt + 1))
    raise RuntimeError("could not connect")


def _field(number: int, value: int) -> bytes:
    return bytes((number << 3,)) + _varint(value)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


async def join(client: Client, room: dict[str, int]) -> None:
    request = _field(1, room["id"]) + _field(2, room["secret"])
    client.answer = asyncio.get_running_loop().create_future()
    client.send(b"\x08\x01\x12" + bytes((len(request),)) + request)
    answer = await asyncio.wait_for(client.answer, 30)
    if answer[:2] != b"\x08\x07":
        raise RuntimeError(f"connect refused: {answer!r}")
    client.answer = None


def relay_frame(room: int, seq: int, size: int) -> bytes:
    data = STAMP.pack(time.perf_counter(), room, seq).ljust(size, b".")
    relay = b"\x1a" + bytes((len(data),)) + data  # Relay{Type=BROADCAST, Data}
    return b"\x12" + bytes((len(relay),)) + relay  # Payload{Flag=0, Data}


async def create_rooms(ports: list[int], count: int, max_clients: int, **extra: Any) -> list[dict]:
    """`count` rooms, created on each node in turn (so owned by each in turn)."""
    rooms = []
    for index in range(count):
        port = ports[index % len(ports)]
        status, body = await asyncio.to_thread(
            benchkit.http_json, "POST", f"http://127.0.0.1:{port}/v1/api/rooms",
            {"max_clients": max_clients, **extra},
        )  # fmt: skip
        if status != 200:
            raise RuntimeError(f"room creation: {status} {body}")
        rooms.append(body["data"])
    return rooms


async def populate(
    gen: Gen, rooms: list[dict], clients: int, ports: list[int]
) -> tuple[list[list[Client]], float]:
    """Every room's clients, host first, each on the nodes in turn (with two nodes, half of a
    room's clients reach it through the node that does not own it); the connects per second
    (handshake and join)."""
    started = time.perf_counter()
    members: list[list[Client]] = [[] for _ in rooms]
    semaphore = asyncio.Semaphore(64)
    turn = [0]

    async def one(index: int) -> None:
        async with semaphore:
            turn[0] += 1
            client = await open_client(gen, index, ports[(index + turn[0]) % len(ports)])
            await join(client, rooms[index])
            members[index].append(client)

    for index in range(len(rooms)):  # the host first: it is the room's first client
        await one(index)
    await asyncio.gather(*(one(i) for i in range(len(rooms)) for _ in range(clients - 1)))
    elapsed = time.perf_counter() - started
    return members, len(rooms) * clients / elapsed


async def drive(gen: Gen, senders: list[Client], rate: float, size: int, seconds: float) -> dict:
    """Each sender broadcasts at `rate` a second for `seconds` (open loop, evenly spread)."""
    loop = asyncio.get_running_loop()
    interval = 1 / rate
    starts = [loop.time() + i * interval / len(senders) for i in range(len(senders))]
    end = loop.time() + seconds
    sent = 0
    while (now := loop.time()) < end:
        for i, client in enumerate(senders):
            while starts[i] <= now:
                if not client.closed:
                    client.send(gen.prefix + relay_frame(client.room, client.seq, size))
                client.seq += 1
                sent += 1
                starts[i] += interval
        await asyncio.sleep(TICK_S)
    return {"sent": sent}


def cpu_of(pids: list[int]) -> float:
    return sum(cpu_ticks(pid) for pid in pids)


async def measure(gen: Gen, senders: list[Client], recipients: int, rate: float, size: int,
                  seconds: float, warmup: float, pids: list[int]) -> dict[str, Any]:  # fmt: skip
    await drive(gen, senders, rate, size, warmup)
    gen.latencies = array("d")
    gen.measuring = True
    delivered, lost, ticks = gen.delivered, gen.lost_or_reordered, cpu_of(pids)
    started = time.perf_counter()
    sent = (await drive(gen, senders, rate, size, seconds))["sent"]
    await asyncio.sleep(0.5)  # the last ones arrive
    elapsed = time.perf_counter() - started - 0.5
    gen.measuring = False
    expected = sent * recipients
    got = gen.delivered - delivered
    return {
        "rate_per_sender": rate,
        "offered_deliveries_per_s": round(expected / elapsed),
        "delivered_per_s": round(got / elapsed),
        "delivered_share": round(got / expected, 4) if expected else None,
        **pct_ms(gen.latencies, 50, 99),
        "lost_or_reordered": gen.lost_or_reordered - lost,
        "server_cpu": round(cpu := (cpu_of(pids) - ticks) / elapsed, 2),
        # what one delivery costs the server (its share of the inbound message included): the
        # figure that holds when the machine is shared and the server gets a fraction of a core
        "server_us_per_delivery": round(cpu / got * elapsed * 1e6, 2) if got else None,
    }


async def _loadgen(p: dict[str, Any]) -> dict[str, Any]:
    ports, pids = p["ports"], p["server_pids"]
    out: dict[str, Any] = {}
    size, rate, seconds, warmup = p["bytes"], p["rate"], p["seconds"], p["warmup"]
    one_node = len(ports) == 1
    if one_node:  # 1. the bare echo baseline
        echo = Gen(p["echo_port"], b"/", b"\x08\x06")
        per_socket = rate * (p["clients"] - 1) / p["clients"]
        sockets = [await open_client(echo, i) for i in range(p["rooms"] * p["clients"])]
        say(f"echo: {len(sockets)} sockets at {per_socket:.2f}/s each")
        out["echo_baseline"] = await measure(
            echo, sockets, 1, per_socket, size, seconds, warmup, [p["echo_pid"]]
        )
        for client in sockets:
            client.transport.close()
        await asyncio.sleep(1)
    # 2. idle memory and connects per second
    gen = Gen(ports[0])
    rss_before = sum(vm_rss_kb(pid) for pid in pids)
    rooms = await create_rooms(ports, p["rooms"], p["clients"] + 1)
    members, connects = await populate(gen, rooms, p["clients"], ports)
    await asyncio.sleep(2)
    connections = p["rooms"] * p["clients"]
    out["connects_per_s"] = round(connects)
    rss_after = sum(vm_rss_kb(pid) for pid in pids)
    out["idle_kb_per_connection"] = round((rss_after - rss_before) / connections, 2)
    say(f"{connections} connected at {connects:.0f}/s")
    hosts = [room[0] for room in members]
    recipients = p["clients"] - 1
    # 3. sustained, then stepping up
    out["sustained"] = await measure(gen, hosts, recipients, rate, size, seconds, warmup, pids)
    say(f"sustained: {out['sustained']}")
    if one_node:
        # 4. slow readers in every tenth room, before the steps: a step past the relay's
        # ceiling has it drop the clients that fell behind, which would leave none to measure.
        slow = []
        for index in range(0, len(rooms), 10):
            client = await open_client(gen, index)
            await join(client, rooms[index])
            client.transport.pause_reading()
            slow.append(client)
        slowed = await measure(gen, hosts, recipients, rate, size, seconds, warmup, pids)
        slowed["slow_readers"] = len(slow)
        slowed["slow_readers_dropped"] = sum(c.closed for c in slow)
        out["with_slow_readers"] = slowed
        say(f"slow readers: {slowed}")
        for client in slow:
            client.transport.close()
        await asyncio.sleep(2)
    steps = []
    for factor in (1.5, 2, 3, 4, 6):
        step = await measure(gen, hosts, recipients, rate * factor, size, seconds / 2, 1, pids)
        steps.append(step)
        say(f"step x{factor}: {step}")
        if step["p99_ms"] is None or step["p99_ms"] > 100 or step["delivered_share"] < 0.95:
            break
    out["steps"] = steps
    held = [s for s in [out["sustained"], *steps]
            if s["p99_ms"] is not None and s["p99_ms"] <= 100 and s["delivered_share"] >= 0.95]  # fmt: skip
    out["max_delivered_per_s_at_p99_100ms"] = max((s["delivered_per_s"] for s in held), default=None)
    if not one_node:
        return out
    for client in [c for room in members for c in room]:
        client.transport.close()
    await asyncio.sleep(2)
    # 5. recording rooms
    gen = Gen(ports[0])
    recorded = await create_rooms(ports, p["rooms"], p["clients"], record=True)
    members, _ = await populate(gen, recorded, p["clients"], ports)
    out["recording"] = await measure(
        gen, [r[0] for r in members], recipients, rate, size, seconds, warmup, pids
    )
    say(f"recording: {out['recording']}")
    for client in [c for room in members for c in room]:
        client.transport.close()
    # 6. fan-out
    gen = Gen(ports[0])
    big = await create_rooms(ports, 1, p["fanout"])
    members, _ = await populate(gen, big, p["fanout"], ports)
    out["fanout"] = await measure(
        gen, [members[0][0]], p["fanout"] - 1, 50, size, seconds, warmup, pids
    )
    out["fanout"]["clients"] = p["fanout"]
    say(f"fan-out: {out['fanout']}")
    return out


# ================================================================================================
# The bench itself
# ================================================================================================


async def echo_server(port: int) -> None:
    from websockets.asyncio.server import serve

    async def echo(socket: Any) -> None:
        async for message in socket:
            await socket.send(message)

    async with serve(echo, "127.0.0.1", port, compression=None, max_queue=64):
        await asyncio.Future()


async def run_bench(run: benchkit.Run, args: argparse.Namespace) -> None:
    run.settings = benchkit.resolve_settings(run)
    ports = [benchkit.free_port() for _ in range(args.nodes)]
    echo_port = benchkit.free_port()
    os.environ["TESSERA_RELAY_MAX_CLIENTS"] = str(args.rooms * (args.clients + 2) * 3)
    os.environ["TESSERA_RELAY_ATTEMPTS_PER_IP"] = "100000"
    if args.nodes == 1:
        await benchkit.start_server(run, ports[0])
        pids = [run.server.pid] if run.server is not None else []
    else:  # `tessera api` nodes, the log publisher and the projections apart
        await benchkit.start_split(run, ports)
        assert run.server is not None
        pids = [run.server.pid, *(h.pid for h in run.helpers[2:])]
    run.migrated = True
    assert run.server is not None
    echo = benchkit.spawn([sys.executable, __file__, "--echo", str(echo_port)], dict(os.environ),
                          run.tmp / "echo.log")  # fmt: skip
    run.helpers.append(echo)
    await asyncio.sleep(1.5)
    params = {
        "ports": ports, "echo_port": echo_port, "server_pids": pids, "echo_pid": echo.pid,
        "rooms": args.rooms, "clients": args.clients, "rate": args.rate, "bytes": args.bytes,
        "seconds": args.seconds, "warmup": args.warmup, "fanout": args.fanout,
    }  # fmt: skip
    run.result.update(await benchkit.run_loadgen(run, __file__, params, args.timeout))
    run.result["server_errors"] = benchkit.server_log_errors(run.server_log)


def headline(result: dict[str, Any]) -> dict[str, Any]:
    sustained = result.get("sustained") or {}
    return {
        "delivered_per_s": sustained.get("delivered_per_s"),
        "p50_ms": sustained.get("p50_ms"),
        "p99_ms": sustained.get("p99_ms"),
        "lost_or_reordered": sustained.get("lost_or_reordered"),
        "echo_delivered_per_s": (result.get("echo_baseline") or {}).get("delivered_per_s"),
        "idle_kb_per_connection": result.get("idle_kb_per_connection"),
        "slow_readers_p99_over_sustained": _ratio(
            (result.get("with_slow_readers") or {}).get("p99_ms"), sustained.get("p99_ms")
        ),
    }


def _ratio(after: float | None, before: float | None) -> float | None:
    return round(after / before, 2) if after is not None and before else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8, help="sockets a room, host included")
    parser.add_argument("--rate", type=float, default=10, help="broadcasts/s of each host")
    parser.add_argument("--bytes", type=int, default=64, help="payload bytes a message")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--fanout", type=int, default=200)
    parser.add_argument(
        "--nodes", type=int, default=1,
        help="API nodes: 2 spreads the rooms and each room's clients over both (phases 2, 3)",
    )
    parser.add_argument("--timeout", type=float, default=400, help="give up after (s)")
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    parser.add_argument("--echo", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo is not None:
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        asyncio.run(echo_server(args.echo))
        return 0
    if args.loadgen is not None:
        benchkit.loadgen_main(_loadgen, json.loads(args.loadgen))
        return 0
    run = benchkit.new_run("bench_relay", "bench_relay")
    started = time.perf_counter()
    machine = benchkit.machine()
    error = benchkit.run_guarded(run, run_bench(run, args), alarm_s=args.timeout + 120)
    result = benchkit.report(headline(run.result), run, error)
    result["machine"] = machine
    result["params"] = {k: getattr(args, k) for k in ("rooms", "clients", "rate", "bytes",
                                                      "seconds", "warmup", "fanout", "nodes")}  # fmt: skip
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
