"""Nothing lost, nothing twice, across a crash: players place pixels and desk clients send ops,
several in flight each, over HTTP and WebSockets; `tessera serve` is killed with SIGKILL in the
middle, started again, and every client resends all it got no answer for. Every acknowledged
command is in the event store, and every command is there exactly once."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import websockets

from tests.integration.helpers import StoredPlacement
from tests.support.crash import (
    NOTHING_SAVED,
    Counter,
    HttpCommands,
    Request,
    Server,
    resent_after_crash,
)

pytestmark = [pytest.mark.integration, pytest.mark.crash]

PALETTE = ["#ffffff", "#000000", "#ff0000", "#00ff00"]
WIDTH = 64
ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}
SOCKET_GONE = (websockets.ConnectionClosed, OSError)


def live(url: str, path: str, headers: dict[str, str] | None = None) -> Any:
    """A live socket that buffers every frame its client passes over: with the library's flow
    control, a client that stopped reading stops noticing that the server died, and waits out
    the closing handshake (10 s)."""
    return websockets.connect(url.replace("http://", "ws://") + path, max_queue=None,
                              additional_headers=headers)


async def next_text(socket: Any) -> dict[str, Any]:
    while True:
        frame = await asyncio.wait_for(socket.recv(), 10)
        if isinstance(frame, str):
            message: dict[str, Any] = msgspec.json.decode(frame)
            if message["type"] not in ("status", "presence", "gone", "op", "collision"):
                return message


async def pause_for(refusal: dict[str, Any]) -> None:
    await asyncio.sleep(refusal.get("wait_ms", 100) / 1000)


# -- clients ---------------------------------------------------------------------------------


def placements(user: str, count: int) -> dict[str, tuple[int, int, int]]:
    """A player's placements, each under an op id of its own: op -> (x, y, colour)."""
    return {f"{user}-{n}": (n % WIDTH, n // WIDTH, 1 + n % 3) for n in range(count)}


def http_placer(canvas_id: str, user: str, count: int, in_flight: int) -> HttpCommands:
    """A player placing over HTTP, several requests at once."""
    return HttpCommands(
        {
            op: Request("POST", f"/api/canvas/{canvas_id}/pixels",
                        {"x": x, "y": y, "colour": colour, "op": op}, {"X-Dev-User": user})
            for op, (x, y, colour) in placements(user, count).items()
        },
        in_flight=in_flight,
    )


class SocketPlacer:
    """A player placing over one live socket, `in_flight` placements sent ahead of their acks."""

    def __init__(self, canvas_id: str, user: str, count: int, in_flight: int) -> None:
        self.path = f"/api/canvas/{canvas_id}"
        self.user = user
        self.ops = placements(user, count)
        self.in_flight = in_flight
        self.versions: dict[str, int] = {}

    def unanswered(self) -> list[str]:
        return [op for op in self.ops if op not in self.versions]

    async def send(self, url: str, counter: Counter) -> None:
        try:
            await self._place(url, counter.answered, retry=False)
        except SOCKET_GONE:
            return

    async def resend(self, url: str) -> None:
        while self.unanswered():
            await self._place(url, lambda: None, retry=True)

    async def _place(self, url: str, answered: Any, *, retry: bool) -> None:
        headers = {"X-Dev-User": self.user}
        async with live(url, f"{self.path}/live", headers) as socket:
            waiting = collections.deque(self.unanswered())
            sent: set[str] = set()
            while waiting or sent:
                while waiting and len(sent) < self.in_flight:
                    op = waiting.popleft()
                    x, y, colour = self.ops[op]
                    await socket.send(msgspec.json.encode(
                        {"type": "place", "x": x, "y": y, "colour": colour, "op": op}))
                    sent.add(op)
                frame = await next_text(socket)
                op = frame["op"]
                sent.discard(op)
                if frame["type"] == "error":
                    assert frame["error"] in NOTHING_SAVED, frame
                    if not retry:
                        continue
                    await pause_for(frame)
                    waiting.append(op)
                    continue
                assert frame["type"] == "ack", frame
                assert op not in self.versions, f"{op} answered twice"
                self.versions[op] = frame["version"]
                answered()


class DeskClient:
    """One desk client on its live socket: ops 1..n on its own sticker, `in_flight` ahead of
    their acks; after a `try_again` (or the `seq_gap` behind it) it resends from the first op
    without an answer, as the web client's outbox does."""

    def __init__(self, link: str, session: dict[str, Any], ops: int, in_flight: int) -> None:
        self.path = f"/api/desk/{link}/live"
        self.client_id, self.session_key = session["client_id"], session["session_key"]
        self.ops = ops
        self.in_flight = in_flight
        self.acks: dict[int, dict[str, Any]] = {}

    def unanswered(self) -> list[int]:
        return [seq for seq in range(1, self.ops + 1) if seq not in self.acks]

    def op(self, seq: int) -> dict[str, Any]:
        return {
            "type": "op",
            "client_id": self.client_id,
            "client_seq": seq,
            "sticker": self.client_id,
            "create": seq == 1,
            "stamp": [int(time.time() * 1000), seq, self.client_id],
            "fields": {"x": float(seq)},
        }

    async def send(self, url: str, counter: Counter) -> None:
        try:
            await self._send(url, counter.answered, retry=False)
        except SOCKET_GONE:
            return

    async def resend(self, url: str) -> None:
        while self.unanswered():
            await self._send(url, lambda: None, retry=True)

    async def _send(self, url: str, answered: Any, *, retry: bool) -> None:
        async with live(url, self.path) as socket:
            await socket.send(msgspec.json.encode({
                "type": "hello", "client_id": self.client_id, "session_key": self.session_key,
                "epoch": 1, "last_seq": 0}))
            while (await next_text(socket))["type"] != "synced":
                pass
            waiting = collections.deque(self.unanswered())
            sent = 0
            refused: dict[str, Any] | None = None
            while waiting or sent:
                while waiting and sent < self.in_flight:
                    await socket.send(msgspec.json.encode(self.op(waiting.popleft())))
                    sent += 1
                frame = await next_text(socket)
                sent -= 1
                if frame["type"] == "error":
                    assert frame["error"] in (*NOTHING_SAVED, "seq_gap"), frame
                    refused = frame
                    waiting.clear()  # the ops in flight are answered first
                else:
                    assert frame["type"] == "ack", frame
                    assert frame["client_seq"] not in self.acks, frame
                    self.acks[frame["client_seq"]] = frame
                    answered()
                if retry and refused is not None and sent == 0:
                    await pause_for(refused)
                    refused = None
                    waiting.extend(self.unanswered())


# -- what the store holds ------------------------------------------------------------------------


async def stored(settings: Any, table: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetch(
            f'SELECT originator_version, topic, state FROM "{settings.schema}".{table} '
            "ORDER BY originator_id, originator_version"
        )
    finally:
        await conn.close()


class StoredOp(msgspec.Struct):
    desk_seq: int
    client_id: str
    client_seq: int


async def stored_placements(settings: Any) -> list[tuple[str, str | None, int]]:
    rows = await stored(settings, "canvases_events")
    placed = []
    for row in rows:
        if row["topic"].endswith("PixelPlaced"):
            p = msgspec.msgpack.decode(row["state"], type=StoredPlacement)
            placed.append((p.user, p.op, row["originator_version"]))
    return placed


async def stored_desk_ops(settings: Any) -> list[StoredOp]:
    rows = await stored(settings, "desks_events")
    return [msgspec.msgpack.decode(row["state"], type=StoredOp)
            for row in rows if row["topic"].endswith(("StickerCreated", "StickerEdited"))]


# -- the test ------------------------------------------------------------------------------------


async def test_placements_and_desk_ops_resent_after_a_kill_are_applied_once_and_none_is_lost(
    make_settings, tmp_path
):
    settings = await make_settings(
        rate_ip_per_s=0,
        identity={"rate_account_per_s": 0},
        # The restarted writer loads a snapshot. A writer answers a batch once it has gathered
        # the next one (the linger): the kill at a batch's commit lands before its answers.
        canvas={"aggregate_snapshot_every": 50, "writer_linger_ms": 20.0},
    )
    async with Server(settings, tmp_path) as server, httpx.AsyncClient(
        base_url=server.url, timeout=10
    ) as http:
        created = await http.post("/api/canvas", headers=ADMIN, json={
            "width": WIDTH, "height": WIDTH, "palette": PALETTE, "cooldown_ms": 0})
        canvas_id = created.json()["id"]
        desk = (await http.post("/api/desk/init", json={"name": "crash", "create_new": True})).json()
        sessions = [desk] + [(await http.post(f"/api/desk/{desk['desk_id']}/session")).json()
                             for _ in range(3)]
        http_placers = {f"h{n}": http_placer(canvas_id, f"h{n}", 40, in_flight=4)
                        for n in range(6)}
        socket_placers = [SocketPlacer(canvas_id, f"s{n}", 40, in_flight=4) for n in range(2)]
        desks = [DeskClient(desk["desk_id"], session, ops=40, in_flight=8) for session in sessions]
        clients = [*http_placers.values(), *socket_placers, *desks]
        total = 40 * len(clients)

        before = await resent_after_crash(server, clients, kill_after=total // 3,
                                          at_commit_to="canvases_events")

    assert server.starts == 2 and before < total
    # Every placement answered once, stored once, at the version its answer named.
    placed = await stored_placements(settings)
    assert len(placed) == len({(user, op) for user, op, _ in placed}), "a placement applied twice"
    answered = {(p.user, op): version for p in socket_placers for op, version in p.versions.items()}
    for user, placer in http_placers.items():
        assert {status for status, _ in placer.answers.values()} == {200}
        answered |= {(user, op): body["version"] for op, (_, body) in placer.answers.items()}
    assert {(user, op): version for user, op, version in placed} == answered
    assert len(answered) == 40 * (len(http_placers) + len(socket_placers))
    # Every desk op answered once, stored once, with the desk_seq its ack named; no gap.
    ops = await stored_desk_ops(settings)
    assert len(ops) == len({(op.client_id, op.client_seq) for op in ops}), "a desk op applied twice"
    assert sorted(op.desk_seq for op in ops) == list(range(1, len(ops) + 1))
    acked = {(d.client_id, seq): ack["desk_seq"] for d in desks for seq, ack in d.acks.items()}
    assert {(op.client_id, op.client_seq): op.desk_seq for op in ops} == acked
    assert len(acked) == sum(d.ops for d in desks)
