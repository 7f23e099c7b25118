import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import websockets

from api.app import Node, build
from tests.integration.conftest import serving, stop, until
from tests.integration.desk.desk_sessions import (
    session_key,
    signed_desk_clients,  # noqa: F401 -- autouse
)


def now_ms() -> int:
    return int(time.time() * 1000)


def an_op(seq: int, client: str, *, sticker: str = "s1", create: bool = False, **fields):
    return {
        "type": "op",
        "client_id": client,
        "client_seq": seq,
        "sticker": sticker,
        "create": create,
        "stamp": [now_ms(), seq, client],
        "fields": fields,
    }


async def a_desk(parts: Node, name: str = "retro") -> str:
    from api.desk.controller import desk_out
    from commands.desk.wire import InitDesk

    opened = await asyncio.to_thread(parts["desk"].desks.init_desk, InitDesk(name=name, create_new=True))
    return desk_out(opened.desk).desk_id


async def send(socket, message: dict) -> None:
    await socket.send(msgspec.json.encode(message).decode())


async def receive(socket, *, skip: tuple[str, ...] = ("presence", "gone")) -> dict:
    while True:
        message = msgspec.json.decode(await asyncio.wait_for(socket.recv(), 10))
        if message["type"] not in skip:
            return message


async def hello(socket, client: str, *, epoch: int = 1, last_seq: int = 0) -> list[dict]:
    """Say hello; the frames of the answer up to and including `synced`."""
    desk = socket.request.path.split("/")[3]  # /api/desk/<link>/live
    await send(
        socket,
        {
            "type": "hello",
            "client_id": client,
            "session_key": session_key(desk, client),
            "epoch": epoch,
            "last_seq": last_seq,
        },
    )
    frames = []
    while not frames or frames[-1]["type"] != "synced":
        frames.append(await receive(socket))
    return frames


def live_url(port: int, desk: str) -> str:
    return f"ws://127.0.0.1:{port}/api/desk/{desk}/live"


@contextlib.asynccontextmanager
async def ann_and_bob(parts: Node, desk: str) -> AsyncIterator[tuple[Any, Any]]:
    """Two clients of `desk` on a served node, each past its hello."""
    async with (
        serving(parts) as port,
        websockets.connect(live_url(port, desk)) as ann,
        websockets.connect(live_url(port, desk)) as bob,
    ):
        await hello(ann, "ann")
        await hello(bob, "bob")
        yield ann, bob


async def op_reaching(socket, desk_seq: int) -> dict:
    while True:
        message = await receive(socket)
        if message["type"] == "op" and message["desk_seq"] == desk_seq:
            return message


async def test_two_clients_see_each_others_ops(parts: Node):
    desk = await a_desk(parts)
    async with ann_and_bob(parts, desk) as (ann, bob):
        await send(ann, an_op(1, "ann", create=True, text="hi"))
        ack = await receive(ann)
        assert ack == {
            "type": "ack",
            "client_seq": 1,
            "desk_seq": 1,
            "applied": ack["applied"],
            "superseded": [],
            "replayed": False,
        }
        seen = await op_reaching(bob, 1)
        assert (seen["client_id"], seen["sticker"], seen["fields"]["text"]) == ("ann", "s1", "hi")
        await send(bob, an_op(1, "bob", colour="#00ff00"))
        assert (await receive(bob))["desk_seq"] == 2
        assert (await op_reaching(ann, 2))["fields"] == {"colour": "#00ff00"}


async def test_an_author_hears_of_its_own_op_by_the_ack_only(parts: Node):
    desk = await a_desk(parts)
    async with ann_and_bob(parts, desk) as (ann, bob):
        await send(ann, an_op(1, "ann", create=True, text="mine"))
        assert (await receive(ann))["type"] == "ack"
        assert (await op_reaching(bob, 1))["client_id"] == "ann"
        await send(bob, an_op(1, "bob", text="theirs"))
        # The next frame ann gets is bob's op 2: its own op 1 never came back to it.
        after = await receive(ann)
        assert (after["type"], after["desk_seq"], after["client_id"]) == ("op", 2, "bob")
        # A catch-up still holds everyone's ops, the author's own included.
        frames = await hello(ann, "ann", last_seq=0)
    assert [(f["type"], f.get("client_id")) for f in frames[:-1]] == [("op", "ann"), ("op", "bob")]


async def test_a_client_reconnecting_with_an_old_seq_gets_exactly_the_missed_ops(parts: Node):
    desk = await a_desk(parts)
    async with serving(parts) as port:
        async with websockets.connect(live_url(port, desk)) as ann:
            await hello(ann, "ann")
            for seq in range(1, 6):
                await send(ann, an_op(seq, "ann", create=seq == 1, x=float(seq)))
                assert (await receive(ann, skip=("op",)))["desk_seq"] == seq
        async with websockets.connect(live_url(port, desk)) as bob:
            frames = await hello(bob, "bob", last_seq=3)
    assert [(f["type"], f.get("desk_seq")) for f in frames] == [("op", 4), ("op", 5), ("synced", 5)]
    assert frames[0]["fields"] == {"x": 4.0}


async def test_a_changed_epoch_gets_a_snapshot(parts: Node, client):
    made = (await client.post("/api/desk/init", json={"name": "retro", "create_new": True})).json()
    desk = made["desk_id"]
    async with serving(parts) as port, websockets.connect(live_url(port, desk)) as ann:
        await hello(ann, "ann")
        await send(ann, an_op(1, "ann", create=True, text="kept"))
        await receive(ann, skip=("op",))
        finished = await client.post(
            f"/api/desk/{desk}/finish", json={"creator_token": made["creator_token"]}
        )
        assert finished.json() == {"epoch": 2}
        assert (await receive(ann, skip=("op",))) == {"type": "session_finished", "epoch": 2}
        frames = await hello(ann, "ann", epoch=1, last_seq=1)
    snapshot = frames[0]
    assert snapshot["type"] == "snapshot" and snapshot["epoch"] == 2
    assert [s["text"] for s in snapshot["stickers"]] == ["kept"]
    assert frames[-1] == {"type": "synced", "epoch": 2, "desk_seq": 1}


async def test_a_resent_op_is_acknowledged_again_and_not_applied_twice(parts: Node):
    desk = await a_desk(parts)
    async with serving(parts) as port, websockets.connect(live_url(port, desk)) as ann:
        await hello(ann, "ann")
        op = an_op(1, "ann", create=True, text="once")
        await send(ann, op)
        first = await receive(ann, skip=("op",))
        await send(ann, op)
        again = await receive(ann, skip=("op",))
        await send(ann, an_op(2, "ann", text="twice"))
        second = await receive(ann, skip=("op",))
    assert again["replayed"] and again["desk_seq"] == first["desk_seq"] == 1
    assert second["desk_seq"] == 2  # the resend took no desk_seq


async def test_a_collision_goes_to_its_author_only(parts: Node):
    desk = await a_desk(parts)
    async with ann_and_bob(parts, desk) as (ann, bob):
        await send(ann, an_op(1, "ann", create=True, text="first"))
        await receive(ann, skip=("op",))
        await op_reaching(bob, 1)
        await send(ann, an_op(2, "ann", text="ann's"))
        await receive(ann, skip=("op",))
        await op_reaching(bob, 2)
        late = an_op(1, "bob", text="bob's")
        late["stamp"] = [now_ms() - 10_000, 0, "bob"]  # older than ann's edit, unseen by bob
        await send(bob, late)
        ack = await receive(bob, skip=("op",))
        collision = await receive(bob, skip=("op",))
        await send(ann, {"type": "ping"})
        ann_next = await receive(ann, skip=("op",))
    assert ack["superseded"] == ["text"]
    assert collision == {
        "type": "collision",
        "sticker": "s1",
        "field": "text",
        "lost": "bob's",
        "winner": "ann's",
        "winner_stamp": collision["winner_stamp"],
    }
    assert ann_next == {"type": "pong"}  # ann heard of no collision


async def test_presence_is_relayed_to_the_others_and_coalesced(parts: Node):
    desk = await a_desk(parts)
    parts["desk"].hub.presence_interval_s = 3600.0  # one now, the latest of the rest much later
    async with ann_and_bob(parts, desk) as (ann, bob):
        for x in range(20):
            await send(ann, {"type": "presence", "cursor": [x, 0]})
        await send(ann, an_op(1, "ann", create=True))
        relayed = []
        while (message := await receive(bob, skip=()))["type"] != "op":
            relayed.append(message)
        await send(ann, {"type": "ping"})
        ann_next = await receive(ann, skip=("op",))
    assert relayed == [
        {
            "type": "presence",
            "client_id": "ann",
            "cursor": [0.0, 0.0],
            "selection": None,
            "drag": None,
        }
    ]
    assert ann_next["type"] == "ack"  # and nothing of its own presence came back


async def test_a_silent_peer_is_announced_gone(parts: Node):
    desk = await a_desk(parts)
    parts["desk"].hub.presence_ttl_s = 0.2
    async with ann_and_bob(parts, desk) as (ann, bob):
        await send(ann, {"type": "presence", "selection": ["s1"]})
        assert (await receive(bob, skip=()))["type"] == "presence"
        assert await receive(bob, skip=()) == {"type": "gone", "client_id": "ann"}


async def test_an_op_on_one_node_reaches_a_socket_on_another(parts: Node, settings):
    second = await build(settings, roles={"api"})
    try:
        desk = await a_desk(parts)
        async with (
            serving(parts) as port_a,
            serving(second) as port_b,
            websockets.connect(live_url(port_a, desk)) as ann,
            websockets.connect(live_url(port_b, desk)) as bob,
        ):
            await hello(ann, "ann")
            await hello(bob, "bob")
            await send(bob, an_op(1, "bob", create=True, text="from b"))
            assert (await op_reaching(ann, 1))["fields"]["text"] == "from b"
            await send(ann, an_op(1, "ann", text="from a"))
            assert (await op_reaching(bob, 2))["fields"] == {"text": "from a"}
    finally:
        await stop(second)


async def test_bad_frames_get_error_frames_and_change_nothing(parts: Node):
    desk = await a_desk(parts)
    async with serving(parts) as port, websockets.connect(live_url(port, desk)) as ann:
        await send(ann, an_op(1, "ann", create=True))
        assert (await receive(ann))["error"] == "hello_first"
        await hello(ann, "ann")
        await ann.send("{not json")
        assert (await receive(ann))["error"] == "invalid_message"
        await send(ann, {"type": "teleport"})
        assert (await receive(ann))["error"] == "invalid_message"
        await send(ann, {"type": "hello", "client_id": "ann", "extra": 1})
        assert (await receive(ann))["error"] == "invalid_message"
        await send(ann, {**an_op(1, "ann", create=True), "fields": {"text": "x" * 20_000}})
        assert (await receive(ann))["error"] == "invalid_message"
        await send(ann, an_op(1, "ann", text="no such sticker"))
        assert (await receive(ann))["error"] == "unknown_sticker"
        await ann.send("x" * (65 * 1024))
        with contextlib.suppress(websockets.ConnectionClosed):
            await ann.recv()
        assert ann.close_code == 1009
    desk_now = await asyncio.to_thread(parts["desk"].desks.get_desk, parts_desk_id(desk))
    assert desk_now.desk_seq == 0


def parts_desk_id(link: str):
    from commands.desk.desks import desk_id_of

    return desk_id_of(link)


async def test_a_hello_without_the_client_ids_session_key_closes_with_4403(parts: Node):
    desk = await a_desk(parts)
    async with serving(parts) as port:
        for key in ("", session_key(desk, "bob"), session_key(await a_desk(parts), "ann")):
            async with websockets.connect(live_url(port, desk)) as ann:
                await send(ann, {"type": "hello", "client_id": "ann", "session_key": key})
                with contextlib.suppress(websockets.ConnectionClosed):
                    await ann.recv()
            assert ann.close_code == 4403


async def test_an_unknown_desk_closes_with_4404(parts: Node):
    async with serving(parts) as port, websockets.connect(live_url(port, "A" * 22)) as socket:
        with contextlib.suppress(websockets.ConnectionClosed):
            await socket.recv()
    assert socket.close_code == 4404


async def test_a_socket_waits_for_the_read_model_nowhere(parts: Node):
    """A desk not projected yet is still joined (from the store)."""
    desk = await a_desk(parts)
    async with serving(parts) as port, websockets.connect(live_url(port, desk)) as ann:
        frames = await hello(ann, "ann", epoch=0)
    assert frames[0]["type"] == "snapshot" and frames[-1]["desk_seq"] == 0
    await until(lambda: parts["desk"].view.find_head(parts_desk_id(desk)))


def _client_frame(payload: bytes, *, opcode: int = 0x1, fin: bool = True) -> bytes:
    """A masked client frame (RFC 6455 §5.2), written by hand to send several in one write."""
    mask = secrets.token_bytes(4)
    size = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    head += bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    return head + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


async def _server_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await asyncio.wait_for(reader.readexactly(2), 10)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    return first & 0x0F, await reader.readexactly(size)


async def _joined_raw(port: int, desk: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A socket of ann's on `desk`, spoken to frame by frame, past its hello."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/desk/{desk}/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .encode()
    )
    assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
    hello = {"type": "hello", "client_id": "ann", "session_key": session_key(desk, "ann"),
             "epoch": 1, "last_seq": 0}
    writer.write(_client_frame(msgspec.json.encode(hello)))
    while msgspec.json.decode((await _server_frame(reader))[1])["type"] != "synced":
        pass
    return reader, writer


def _op_of_ann(seq: int) -> bytes:
    return msgspec.json.encode({"type": "op", **an_op(seq, "ann", create=seq == 1, x=seq)})


async def _acks(reader: asyncio.StreamReader, count: int) -> list[int]:
    acked = []
    while len(acked) < count:
        opcode, payload = await _server_frame(reader)
        if opcode == 0x1 and (message := msgspec.json.decode(payload))["type"] == "ack":
            acked.append(message["client_seq"])
    return acked


async def test_frames_sent_together_split_or_fragmented_are_all_answered_in_order(parts: Node):
    """Once joined, a socket's text frames are parsed on the spot; whatever else comes (a ping,
    a frame cut in two by the network, a fragmented message) goes through the general parser,
    and nothing is lost or reordered on the way."""
    desk = await a_desk(parts)
    async with serving(parts) as port:
        reader, writer = await _joined_raw(port, desk)
        third = _client_frame(_op_of_ann(3))
        writer.write(
            _client_frame(_op_of_ann(1))
            + _client_frame(b"are you there", opcode=0x9)  # a ping
            + _client_frame(_op_of_ann(2))
            + third[:7]
        )
        await writer.drain()
        await asyncio.sleep(0.05)
        fourth = _op_of_ann(4)
        writer.write(
            third[7:]
            + _client_frame(fourth[:10], fin=False)
            + _client_frame(fourth[10:], opcode=0x0)  # the rest, as a continuation
            + _client_frame(_op_of_ann(5))
        )
        answers = []
        while len([a for a in answers if a != "pong"]) < 5:
            opcode, payload = await _server_frame(reader)
            if opcode == 0xA:
                assert payload == b"are you there"
                answers.append("pong")
            elif opcode == 0x1 and (message := msgspec.json.decode(payload))["type"] == "ack":
                answers.append(message["client_seq"])
        assert [a for a in answers if a != "pong"] == [1, 2, 3, 4, 5]
        assert "pong" in answers
        writer.close()
    desk_now = await asyncio.to_thread(parts["desk"].desks.get_desk, parts_desk_id(desk))
    assert desk_now.desk_seq == 5 and desk_now.sticker("s1")["x"] == 5


async def test_a_socket_with_many_ops_in_flight_pauses_and_answers_them_all(parts: Node):
    """Past 64 unanswered ops a socket stops reading until the writer catches up; none is lost."""
    desk = await a_desk(parts)
    async with serving(parts) as port:
        reader, writer = await _joined_raw(port, desk)
        for first in range(1, 301, 100):
            writer.write(b"".join(_client_frame(_op_of_ann(seq)) for seq in range(first, first + 100)))
            await writer.drain()
        assert await _acks(reader, 300) == list(range(1, 301))
        writer.close()
    desk_now = await asyncio.to_thread(parts["desk"].desks.get_desk, parts_desk_id(desk))
    assert desk_now.desk_seq == 300


async def test_a_control_character_in_an_op_gets_an_error_frame_naming_the_field(parts: Node):
    desk = await a_desk(parts)
    async with serving(parts) as port, websockets.connect(live_url(port, desk)) as ann:
        await hello(ann, "ann")
        await send(ann, an_op(1, "ann", create=True, text="a\u0000b"))
        refused = await receive(ann)
        await send(ann, an_op(1, "ann", create=True, text="fine"))
        ack = await receive(ann, skip=("op",))
    assert (refused["type"], refused.get("error"), refused.get("field")) == (
        "error", "invalid_text", "fields.text"
    )
    assert refused["client_seq"] == 1  # the client drops that op rather than send it again
    assert (ack["type"], ack["desk_seq"]) == ("ack", 1)  # the refused op took no desk_seq


async def test_presence_carries_the_name_its_sender_goes_by(parts: Node):
    desk = await a_desk(parts)
    async with ann_and_bob(parts, desk) as (ann, bob):
        await send(ann, {"type": "presence", "cursor": [4, 2], "name": "Calm Otter"})
        heard = await receive(bob, skip=())
    assert (heard["type"], heard["cursor"], heard["name"]) == ("presence", [4, 2], "Calm Otter")


async def test_a_hello_with_a_bad_access_token_is_told_and_the_desk_works_on(parts: Node):
    desk = await a_desk(parts)
    async with serving(parts) as port, websockets.connect(live_url(port, desk)) as ann:
        await send(
            ann,
            {
                "type": "hello",
                "client_id": "ann",
                "session_key": session_key(desk, "ann"),
                "epoch": 1,
                "access_token": "not-a-token",
            },
        )
        frames = [await receive(ann)]
        while frames[-1]["type"] != "error":
            frames.append(await receive(ann))
        assert frames[-1]["error"] == "invalid_token"
        assert "synced" in [frame["type"] for frame in frames]

        await send(ann, an_op(1, "ann", create=True, x=1, y=2, text="still here"))

        assert (await receive(ann))["type"] == "ack"
