"""Desks over HTTP without services: the real `Desks` on the library's in-memory store, its hub
over an in-memory NATS, and a desk view the projector has not reached yet (reads fold the store)."""

from __future__ import annotations

import time
from uuid import UUID

from api.desk.parts import DeskParts
from commands.desk.desks import Desks
from infra.desk.hub import DeskHub
from infra.desk.keys import DeskSessionKeys
from infra.desk.reads import DeskReads
from infra.desk.view import DeskBoard, DeskHead, DeskViewOut
from infra.identity.tokens import SigningKeys
from tests.support.api import JWT_KEYS, a_node, http_to, identity_parts, unit_settings
from tests.support.clock import ManualClock
from tests.support.fakes import IN_MEMORY, FakeNats


class NotProjectedYet:
    """The desk view before the projector reached any desk: every read falls back to the store."""

    async def find_board(self, desk_id: UUID) -> DeskBoard | None:
        return None

    async def find_head(self, desk_id: UUID) -> DeskHead | None:
        return None

    async def find_desk(self, desk_id: UUID) -> DeskViewOut | None:
        return None


def desk_parts(clock: ManualClock) -> DeskParts:
    desks = Desks(IN_MEMORY, clock=clock.utc_now, ttl_s=3600, linger_s=0.0)
    view = NotProjectedYet()
    hub = DeskHub(
        desks,
        view,  # type: ignore[arg-type]
        FakeNats(),  # type: ignore[arg-type]
        FakeNats(),  # type: ignore[arg-type]
        prefix="unit",
        ttl_s=3600,
        session_keys=DeskSessionKeys.derive(SigningKeys.parse(JWT_KEYS)),
    )
    return DeskParts(desks, view, DeskReads(view, desks, ttl_s=3600), hub, None)  # type: ignore[arg-type]


def serve(desk: DeskParts):
    settings = unit_settings()
    return http_to(settings, a_node(identity=identity_parts(settings), desk=desk))


def an_op(made: dict, seq: int, **fields: object) -> dict[str, object]:
    return {
        "client_id": made["client_id"],
        "client_seq": seq,
        "sticker": "s1",
        "create": seq == 1,
        "stamp": [int(time.time() * 1000) + seq, 0, made["client_id"]],
        "fields": fields,
    }


async def open_desk(http, name: str = "retro") -> dict:
    response = await http.post("/api/desk/init", json={"name": name, "create_new": True})
    assert response.status_code == 200
    return response.json()


async def test_a_new_desk_comes_with_its_link_session_key_and_creator_token():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        made = await open_desk(http)
    assert len(made["desk_id"]) == 22 and made["session_key"] and made["creator_token"]
    assert (made["name"], made["desk_seq"], made["stickers"]) == ("retro", 0, [])


async def test_create_new_sent_as_a_number_is_refused():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        response = await http.post("/api/desk/init", json={"name": "retro", "create_new": 0})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    problems = response.json()["detail"]["problems"]
    assert problems == [
        {"message": "Expected `bool`, got `int`", "key": "create_new", "source": "body"}
    ]


async def test_an_op_with_a_number_sent_as_a_string_is_refused_and_changes_nothing():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        made = await open_desk(http)
        op = {**an_op(made, 1, text="x"), "client_seq": "1"}
        refused = await http.post(f"/api/desk/{made['desk_id']}/ops", json=op,
                                  headers={"X-Desk-Session": made["session_key"]})
        read = await http.get(f"/api/desk/{made['desk_id']}")
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")
    assert read.json()["desk_seq"] == 0


async def test_an_acknowledged_op_is_read_back_from_the_store_before_any_projection():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        made = await open_desk(http)
        headers = {"X-Desk-Session": made["session_key"]}
        ack = await http.post(f"/api/desk/{made['desk_id']}/ops", json=an_op(made, 1, text="hi"),
                              headers=headers)
        read = await http.get(f"/api/desk/{made['desk_id']}")
    assert (ack.status_code, ack.json()["desk_seq"]) == (200, 1)
    assert [(s["id"], s["text"]) for s in read.json()["stickers"]] == [("s1", "hi")]


async def test_an_op_without_its_session_key_is_refused_and_changes_nothing():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        made = await open_desk(http)
        refused = await http.post(f"/api/desk/{made['desk_id']}/ops", json=an_op(made, 1, text="x"))
        read = await http.get(f"/api/desk/{made['desk_id']}")
    assert (refused.status_code, refused.json()["error"]) == (403, "bad_session_key")
    assert read.json()["desk_seq"] == 0


async def test_an_op_after_a_gap_is_told_which_one_to_send_next():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        made = await open_desk(http)
        headers = {"X-Desk-Session": made["session_key"]}
        gap = await http.post(f"/api/desk/{made['desk_id']}/ops", json=an_op(made, 3, text="x"),
                              headers=headers)
    assert (gap.status_code, gap.json()["error"], gap.json()["expected_seq"]) == (409, "seq_gap", 1)


async def test_an_unknown_desk_is_a_404_with_its_code():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        missing = await http.get("/api/desk/AAAAAAAAAAAAAAAAAAAAAA")
    assert (missing.status_code, missing.json()["error"]) == (404, "desk_not_found")


async def test_an_expired_desk_is_410_gone():
    clock = ManualClock()
    desk = desk_parts(clock)
    async with serve(desk) as http:
        made = await open_desk(http)
        clock.advance(3601)
        gone = await http.get(f"/api/desk/{made['desk_id']}")
    assert (gone.status_code, gone.json()["error"]) == (410, "desk_gone")


async def test_only_the_creator_finishes_a_session():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        made = await open_desk(http)
        url = f"/api/desk/{made['desk_id']}/finish"
        refused = await http.post(url, json={"creator_token": "x" * 43})
        finished = await http.post(url, json={"creator_token": made["creator_token"]})
        read = await http.get(f"/api/desk/{made['desk_id']}")
    assert (refused.status_code, refused.json()["error"]) == (403, "not_creator")
    assert finished.json() == {"epoch": 2} and read.json()["epoch"] == 2


async def test_a_nul_in_a_desk_name_is_a_422_naming_the_field():
    async with serve(desk_parts(ManualClock())) as http:
        response = await http.post("/api/desk/init", json={"name": "retro\u0000"})
    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["field"]) == ("invalid_text", "name")


async def test_a_control_character_in_a_sticker_text_is_a_422_and_changes_nothing():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        made = await open_desk(http)
        headers = {"X-Desk-Session": made["session_key"]}
        refused = await http.post(f"/api/desk/{made['desk_id']}/ops",
                                  json=an_op(made, 1, text="a\u0000b"), headers=headers)
        read = await http.get(f"/api/desk/{made['desk_id']}")
    assert refused.status_code == 422, refused.text
    assert (refused.json()["error"], refused.json()["field"]) == ("invalid_text", "fields.text")
    assert read.json()["desk_seq"] == 0


async def test_a_sticker_text_keeps_its_lines_and_tabs():
    desk = desk_parts(ManualClock())
    async with serve(desk) as http:
        made = await open_desk(http)
        headers = {"X-Desk-Session": made["session_key"]}
        ack = await http.post(f"/api/desk/{made['desk_id']}/ops",
                              json=an_op(made, 1, text="to do:\n\tmilk"), headers=headers)
        read = await http.get(f"/api/desk/{made['desk_id']}")
    assert ack.status_code == 200, ack.text
    assert [s["text"] for s in read.json()["stickers"]] == ["to do:\n\tmilk"]
