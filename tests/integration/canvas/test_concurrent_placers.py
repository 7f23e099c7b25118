import asyncio

import msgspec

from api.app import Node
from commands.actor import Actor
from commands.canvas.canvases import Canvases
from commands.canvas.wire import CreateCanvas, PlacePixel
from domain.canvas import CooldownActive
from infra.spine.eventstore import application_env
from tests.integration.helpers import StoredPlacement, stored_events

PALETTE = ["#ffffff", "#000000", "#ff0000", "#0000ff"]


async def test_every_acknowledged_placement_is_stored_exactly_once_with_gapless_versions(
    parts: Node,
):
    settings = parts.settings
    canvas = await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas,
        CreateCanvas(width=100, height=100, palette=PALETTE, cooldown_ms=0),
    )
    # A second node's application: its writer competes for the same canvas and must lose races.
    other_node = await asyncio.to_thread(Canvases, application_env(settings), linger_s=0.001)
    acknowledged: dict[tuple[str, str], int] = {}

    async def player(n: int) -> None:
        for i in range(150):
            node = parts["canvas"].canvases if (n + i) % 2 else other_node
            op = f"{n}-{i}"
            placement = await node.execute(
                canvas.id, Actor(f"p{n}"), PlacePixel(x=i % 100, y=n, colour=i % 4, op=op)
            )
            acknowledged[(f"p{n}", op)] = placement.version

    try:
        await asyncio.gather(*(player(n) for n in range(8)))
    finally:
        await asyncio.to_thread(other_node.stop_writers)
        await asyncio.to_thread(other_node.close)

    rows = await stored_events(settings, canvas.id)
    versions = [row["originator_version"] for row in rows]
    assert versions == list(range(1, len(rows) + 1))
    placed = {}
    for row in rows[1:]:
        p = msgspec.msgpack.decode(row["state"], type=StoredPlacement)
        assert (p.user, p.op) not in placed, "a placement was stored twice"
        placed[(p.user, p.op)] = row["originator_version"]
    assert placed == acknowledged


async def test_cooldown_uses_the_servers_clock_and_tells_the_wait(parts: Node):
    canvas = await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas,
        CreateCanvas(width=10, height=10, palette=PALETTE, cooldown_ms=60_000),
    )
    await parts["canvas"].canvases.execute(canvas.id, Actor("ann"), PlacePixel(x=1, y=1, colour=1))
    try:
        await parts["canvas"].canvases.execute(canvas.id, Actor("ann"), PlacePixel(x=2, y=1, colour=1))
    except CooldownActive as refused:
        assert 0 < refused.wait_ms <= 60_000
    else:
        raise AssertionError("the second placement within the cooldown was accepted")
    assert len(await stored_events(parts.settings, canvas.id)) == 2
