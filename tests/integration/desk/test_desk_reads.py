"""`GET /api/desk/{id}` and the export come from the desk view and the ops it has not folded yet
(read from the event store), never from the aggregate: the writer's memory is not asked."""

from __future__ import annotations

from api.app import Node, build
from commands.desk.desks import desk_id_of
from infra.settings import Settings
from tests.integration.conftest import stop, until
from tests.integration.desk.desk_sessions import signed_desk_clients  # noqa: F401 -- autouse
from tests.integration.desk.test_desks import a_desk, an_op


async def test_a_desk_is_read_before_the_view_has_it(make_settings, client):
    made = await a_desk(client)
    desk = made["desk_id"]
    for seq, text in enumerate(("one", "two", "three"), start=1):
        await client.post(f"/api/desk/{desk}/ops", json=an_op(seq, create=seq == 1, text=text))
    read = (await client.get(f"/api/desk/{desk}")).json()
    assert (read["name"], read["desk_seq"], read["epoch"]) == ("retro", 3, 1)
    assert [s["text"] for s in read["stickers"]] == ["three"]


async def test_a_read_folds_the_ops_the_view_has_not_folded_yet(parts: Node, client):
    desk = (await a_desk(client))["desk_id"]
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, create=True, text="seen"))
    key = desk_id_of(desk)
    await until(lambda: _view_at(parts, key, 1))
    await parts.runner("desks").stop()  # the view stays at 1 from here
    await client.post(f"/api/desk/{desk}/ops", json=an_op(2, text="not folded yet"))
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, sticker="s2", client="bo",
                                                           create=True, text="new"))
    read = (await client.get(f"/api/desk/{desk}")).json()
    assert read["desk_seq"] == 3
    assert {s["id"]: s["text"] for s in read["stickers"]} == {"s1": "not folded yet", "s2": "new"}
    exported = (await client.get(f"/api/desk/{desk}/export")).json()
    assert [s["text"] for s in exported["stickers"]] == ["not folded yet", "new"]


async def test_a_finished_session_shows_in_the_epoch_at_once(client):
    made = await a_desk(client)
    desk = made["desk_id"]
    await client.post(f"/api/desk/{desk}/finish", json={"creator_token": made["creator_token"]})
    await client.post(f"/api/desk/{desk}/finish", json={"creator_token": made["creator_token"]})
    assert (await client.get(f"/api/desk/{desk}")).json()["epoch"] == 3


async def test_an_unknown_desk_is_404_and_reads_no_writer(settings: Settings, client):
    missing = await client.get("/api/desk/AAAAAAAAAAAAAAAAAAAAAA")
    assert (missing.status_code, missing.json()["error"]) == (404, "desk_not_found")


async def test_a_read_only_node_answers_from_the_view_without_loading_the_desk(
    settings: Settings, parts: Node, client
):
    desk = (await a_desk(client))["desk_id"]
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, create=True, text="hi"))
    other = await build(settings, roles={"api"})
    try:
        read = await other["desk"].reads.get_desk(desk_id_of(desk))
        assert [s.text for s in read.stickers] == ["hi"]
        assert other["desk"].desks.active_desks() == 0  # nothing was loaded into a writer
    finally:
        await stop(other)


async def _view_at(parts: Node, desk, seq: int) -> bool:
    head = await parts["desk"].view.find_head(desk)
    return head is not None and head.desk_seq >= seq
