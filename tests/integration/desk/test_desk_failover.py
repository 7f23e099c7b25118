"""A desk moves between nodes when one restarts (HAProxy's affinity sends its editors to the
other): a node that kept the desk in memory from before must not refuse an op by what it
remembers, since the other node may have written the desk meanwhile."""

from __future__ import annotations

import asyncio

from api.app import migrate
from commands.desk.desks import Desks
from commands.desk.wire import ApplyStickerOp, InitDesk, StickerFields
from infra.spine.eventstore import application_env


def an_op(seq: int) -> ApplyStickerOp:
    return ApplyStickerOp(client_id="c1", client_seq=seq, sticker="s1", stamp=(1_000 + seq, 0, "c1"),
                          fields=StickerFields(x=seq), create=seq == 1)


async def test_a_node_that_kept_a_desk_decides_again_when_another_node_wrote_it(settings):
    await migrate(settings)
    env = application_env(settings)
    first, second = await asyncio.gather(asyncio.to_thread(Desks, env), asyncio.to_thread(Desks, env))
    try:
        opened = await asyncio.to_thread(first.init_desk, InitDesk(name="retro", create_new=True))
        desk_id = opened.desk.id
        assert (await first.apply_op(desk_id, an_op(1))).desk_seq == 1  # kept in first's memory
        assert (await second.apply_op(desk_id, an_op(2))).desk_seq == 2  # written elsewhere
        # From memory, op 3 would be a gap after op 1 (409 seq_gap): it is decided again.
        assert (await first.apply_op(desk_id, an_op(3))).desk_seq == 3
        assert (await first.apply_op(desk_id, an_op(4))).desk_seq == 4
        replayed = await second.apply_op(desk_id, an_op(3))
        assert replayed.desk_seq == 3  # and nothing was applied twice
    finally:
        for desks in (first, second):
            await asyncio.to_thread(desks.stop_writers)
            await asyncio.to_thread(desks.close)
