"""Two processes serve one game: every API node fans out from NATS to its own sockets."""

import asyncio

import msgspec
import websockets

from api.app import build
from tests.integration.canvas.test_canvas_live import a_canvas, delta_reaching, next_json
from tests.integration.conftest import serving, stop


async def test_a_pixel_placed_on_one_node_reaches_a_socket_on_another(make_settings):
    settings = await make_settings()
    first = await build(settings)
    second = await build(settings, roles={"api"})
    canvas = await a_canvas(first)
    try:
        async with serving(first) as port_one, serving(second) as port_two:
            path = f"/api/canvas/{canvas.id}/live"
            async with websockets.connect(f"ws://127.0.0.1:{port_two}{path}") as watcher, \
                    websockets.connect(f"ws://127.0.0.1:{port_one}{path}",
                                       additional_headers={"X-Dev-User": "ann"}) as player:
                await player.send(msgspec.json.encode(
                    {"type": "place", "x": 5, "y": 6, "colour": 1, "op": "n1"}))
                ack = await next_json(player)
                deltas = await delta_reaching(watcher, ack["version"])
                assert ((6 * 20 + 5) << 5 | 1) in deltas[-1][2]
    finally:
        await stop(second)
        await stop(first)


async def test_two_nodes_writing_one_desk_lose_nothing_and_fan_out_to_each_other(make_settings):
    """Each node has its own desk writer: both append to one desk at once, so they race (the
    loser reloads and decides again, or answers `try_again` and the client resends). Every op is
    acknowledged once, `desk_seq` has no gap and no repeat, and each node's socket hears every op
    of the other's, in order."""
    from commands.desk.desks import desk_id_of
    from tests.integration.desk.test_desk_live import a_desk, an_op, receive, send

    settings = await make_settings()
    first = await build(settings)
    second = await build(settings, roles={"api"})
    link = await a_desk(first)
    ops = 40
    both_joined = asyncio.Barrier(2)

    async def client(port: int, name: str) -> tuple[list[int], list[int], int]:
        """Our acks' desk_seqs, the others' ops' desk_seqs, and how often we were told to retry."""
        url = f"ws://127.0.0.1:{port}/api/desk/{link}/live"
        key = first["desk"].hub.session_keys.issue(desk_id_of(link), name)
        acks: list[int] = []
        theirs: list[int] = []
        retries = 0
        async with websockets.connect(url) as socket:
            hello = {"type": "hello", "client_id": name, "session_key": key, "epoch": 1}
            await send(socket, {**hello, "last_seq": 0})
            while (await receive(socket))["type"] != "synced":
                pass
            await both_joined.wait()
            while len(acks) < ops or len(theirs) < ops:
                if len(acks) < ops:
                    seq = len(acks) + 1
                    await send(socket, an_op(seq, name, sticker=name, create=seq == 1, x=seq))
                while True:
                    frame = await receive(socket)
                    if frame["type"] == "op":
                        assert frame["client_id"] != name  # our own come back as acks only
                        theirs.append(frame["desk_seq"])
                        if len(acks) == ops:
                            break
                        continue
                    if frame["type"] == "error":
                        assert frame["error"] == "try_again", frame
                        retries += 1
                        break
                    assert frame["type"] == "ack" and frame["client_seq"] == len(acks) + 1, frame
                    assert not frame["replayed"]
                    acks.append(frame["desk_seq"])
                    break
        return acks, theirs, retries

    try:
        async with serving(first) as port_one, serving(second) as port_two:
            (ann_acks, ann_heard, _), (bob_acks, bob_heard, _) = await asyncio.wait_for(
                asyncio.gather(client(port_one, "ann"), client(port_two, "bob")), 60
            )
    finally:
        await stop(second)
        await stop(first)
    assert sorted(ann_acks + bob_acks) == list(range(1, 2 * ops + 1))
    assert ann_heard == bob_acks and bob_heard == ann_acks  # in order, each exactly once
