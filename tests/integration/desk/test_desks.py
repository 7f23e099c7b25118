import time
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from api.app import Node
from commands.desk.desks import desk_id_of
from tests.integration.conftest import until
from tests.integration.desk.desk_sessions import signed_desk_clients  # noqa: F401 -- autouse


async def stored_desk_events(parts: Node) -> int:
    conn = await asyncpg.connect(parts.settings.database_url)
    try:
        count: int = await conn.fetchval(
            f'SELECT count(*) FROM "{parts.settings.schema}".desks_events'
        )
        return count
    finally:
        await conn.close()


def now_ms() -> int:
    return int(time.time() * 1000)


def an_op(
    seq: int,
    *,
    client: str = "ann",
    sticker: str = "s1",
    create: bool = False,
    wall_ms: int | None = None,
    **fields: object,
) -> dict[str, object]:
    return {
        "client_id": client,
        "client_seq": seq,
        "sticker": sticker,
        "create": create,
        "stamp": [wall_ms if wall_ms is not None else now_ms(), seq, client],
        "fields": fields,
    }


async def a_desk(client, name: str = "retro") -> dict[str, object]:
    response = await client.post("/api/desk/init", json={"name": name, "create_new": True})
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_a_created_desk_is_found_by_name_without_its_creator_token(client):
    made = await a_desk(client)
    assert len(made["desk_id"]) == 22 and made["creator_token"] and made["session_key"]
    found = await client.post("/api/desk/init", json={"name": "retro", "create_new": False})
    assert found.json()["desk_id"] == made["desk_id"]
    assert "creator_token" not in found.json()
    assert found.json()["session_key"] != made["session_key"]
    assert found.json()["client_id"] != made["client_id"]


async def test_an_op_needs_the_session_key_of_its_client_id(client):
    made = await a_desk(client)
    desk, ann = made["desk_id"], made["client_id"]
    url = f"/api/desk/{desk}/ops"
    other = (await client.post("/api/desk/init", json={"name": "retro"})).json()
    for key in ("", other["session_key"], "x" * 22):  # (the test client signs when unset)
        headers = {"X-Desk-Session": key}
        refused = await client.post(url, json=an_op(1, client=ann, create=True), headers=headers)
        assert (refused.status_code, refused.json()["error"]) == (403, "bad_session_key")
    ok = await client.post(
        url, json=an_op(1, client=ann, create=True), headers={"X-Desk-Session": made["session_key"]}
    )
    assert ok.json()["desk_seq"] == 1


async def test_an_op_is_acknowledged_after_commit_and_shows_in_the_desk(client):
    desk = (await a_desk(client))["desk_id"]
    ack = await client.post(f"/api/desk/{desk}/ops", json=an_op(1, create=True, text="hi"))
    assert ack.status_code == 200
    assert ack.json()["desk_seq"] == 1 and "text" in ack.json()["applied"]
    state = (await client.get(f"/api/desk/{desk}")).json()
    [sticker] = state["stickers"]
    assert (sticker["id"], sticker["text"], state["desk_seq"]) == ("s1", "hi", 1)


async def test_a_resent_op_gets_the_same_answer_and_is_stored_once(parts: Node, client):
    desk = (await a_desk(client))["desk_id"]
    op = an_op(1, create=True, text="hi")
    first = (await client.post(f"/api/desk/{desk}/ops", json=op)).json()
    stored = await stored_desk_events(parts)
    again = (await client.post(f"/api/desk/{desk}/ops", json=op)).json()
    assert again["replayed"] and again["desk_seq"] == first["desk_seq"]
    assert await stored_desk_events(parts) == stored


async def test_a_gap_asks_to_resend_from_the_missing_seq(client):
    desk = (await a_desk(client))["desk_id"]
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, create=True))
    gap = await client.post(f"/api/desk/{desk}/ops", json=an_op(3, x=5))
    assert gap.status_code == 409
    assert (gap.json()["error"], gap.json()["expected_seq"]) == ("seq_gap", 2)


async def test_a_stamp_from_the_future_is_refused_with_the_server_clock(client):
    desk = (await a_desk(client))["desk_id"]
    skewed = await client.post(
        f"/api/desk/{desk}/ops", json=an_op(1, create=True, wall_ms=now_ms() + 120_000)
    )
    assert skewed.status_code == 409
    assert skewed.json()["error"] == "clock_skew" and skewed.json()["server_ms"] > 0


@pytest.mark.parametrize(
    "op,status,error",
    [
        (an_op(1, create=True, owner="me"), 400, "invalid_request"),
        (an_op(1, create=True) | {"extra": 1}, 400, "invalid_request"),
        (an_op(1, create=True, text="é" * 5200), 422, "text_too_long"),
        (an_op(1, create=True, text="x" * 10_241), 400, "invalid_request"),
        (an_op(1, create=True, colour="red"), 400, "invalid_request"),
        (an_op(1, x=1), 409, "unknown_sticker"),
        (an_op(1, create=True) | {"stamp": [1, 0, "bob"]}, 422, "invalid_stamp"),
    ],
)
async def test_bad_ops_get_a_json_error_naming_the_problem_and_store_nothing(
    parts: Node, client, op, status, error
):
    desk = (await a_desk(client))["desk_id"]
    before = await stored_desk_events(parts)
    response = await client.post(f"/api/desk/{desk}/ops", json=op)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and response.json()["detail"]
    assert await stored_desk_events(parts) == before


async def test_an_unknown_or_malformed_desk_link_is_404(client):
    for link in ("AAAAAAAAAAAAAAAAAAAAAA", "nope"):
        response = await client.get(f"/api/desk/{link}")
        assert (response.status_code, response.json()["error"]) == (404, "desk_not_found")


async def test_the_desk_view_catches_up_with_the_ops(parts: Node, client):
    desk = (await a_desk(client))["desk_id"]
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, create=True, text="a"))
    await client.post(f"/api/desk/{desk}/ops", json=an_op(2, text="b", x=3))
    await client.post(
        f"/api/desk/{desk}/ops",
        json=an_op(1, client="bob", create=True, sticker="s2", deleted=True),
    )

    async def caught_up():
        view = await parts["desk"].view.find_desk(desk_id_of(desk))
        return view if view is not None and view.desk_seq == 3 else None

    view = await until(caught_up)
    by_id = {sticker.id: sticker for sticker in view.stickers}
    assert (by_id["s1"].text, by_id["s1"].x, by_id["s2"].deleted) == ("b", 3, True)
    assert view.name == "retro"


async def test_the_export_holds_every_sticker_with_its_stamps(client):
    desk = (await a_desk(client))["desk_id"]
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, create=True, text="a"))
    export = (await client.get(f"/api/desk/{desk}/export")).json()
    [sticker] = export["stickers"]
    assert sticker["text"] == "a" and sticker["stamps"]["text"][2] == "ann"


async def test_only_the_creator_finishes_the_session(client):
    made = await a_desk(client)
    desk = made["desk_id"]
    refused = await client.post(f"/api/desk/{desk}/finish", json={"creator_token": "guess"})
    assert (refused.status_code, refused.json()["error"]) == (403, "not_creator")
    finished = await client.post(
        f"/api/desk/{desk}/finish", json={"creator_token": made["creator_token"]}
    )
    assert finished.json() == {"epoch": 2}


async def test_a_desk_untouched_past_its_ttl_answers_410(parts: Node, client):
    desk = (await a_desk(client))["desk_id"]
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, create=True))
    later = datetime.now(UTC) + timedelta(seconds=parts.settings.desk.ttl_s + 1)
    parts["desk"].desks.clock = lambda: later
    gone = await client.get(f"/api/desk/{desk}")
    assert (gone.status_code, gone.json()["error"]) == (410, "desk_gone")
    refused = await client.post(f"/api/desk/{desk}/ops", json=an_op(2, x=1))
    assert refused.status_code == 410


async def test_the_desk_view_recovers_when_its_consumer_is_deleted_and_misses_nothing(
    parts: Node, client, caplog: pytest.LogCaptureFixture
):
    desk = (await a_desk(client))["desk_id"]
    await client.post(f"/api/desk/{desk}/ops", json=an_op(1, create=True, text="a"))

    async def at(seq: int):
        view = await parts["desk"].view.find_desk(desk_id_of(desk))
        return view if view is not None and view.desk_seq == seq else None

    await until(lambda: at(1))
    settings = parts.settings
    js = parts.nc.jetstream()
    await js.delete_consumer(settings.events_stream, f"{settings.stream_prefix}_desks")
    for seq in range(2, 6):
        await client.post(f"/api/desk/{desk}/ops", json=an_op(seq, text=f"t{seq}"))

    view = await until(lambda: at(5))
    assert [sticker.text for sticker in view.stickers] == ["t5"]
    failures = [r for r in caplog.records if r.name == "infra.spine.runner" and "desks" in r.message]
    assert failures and failures[0].exc_info is not None
