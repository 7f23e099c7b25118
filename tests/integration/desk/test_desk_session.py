"""`POST /api/desk/{id}/session`: a fresh client id and session key from the link alone."""

import pytest
import websockets

from api.app import Node
from tests.integration.conftest import serving
from tests.integration.desk.desk_sessions import signed_desk_clients  # noqa: F401 -- autouse
from tests.integration.desk.test_desk_lifecycle import Clock, a_desk, an_op
from tests.integration.desk.test_desk_live import live_url, receive, send


@pytest.fixture
def clock(parts: Node) -> Clock:
    clock = Clock()
    parts["desk"].desks.clock = clock
    return clock


async def a_session(client, desk: str) -> dict:
    response = await client.post(f"/api/desk/{desk}/session")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_session_from_the_link_is_fresh_and_has_no_creator_token(client):
    made = await a_desk(client)
    session = await a_session(client, made["desk_id"])
    assert (session["desk_id"], session["name"]) == (made["desk_id"], "retro")
    assert session["client_id"] and session["session_key"]
    assert session["client_id"] != made["client_id"]
    assert "creator_token" not in session


async def test_a_session_from_the_link_finds_its_desk_after_the_name_moved_on(client):
    older = await a_desk(client)
    newer = await a_desk(client)  # the name "retro" now belongs to this one
    assert (await a_session(client, older["desk_id"]))["desk_id"] == older["desk_id"]
    assert newer["desk_id"] != older["desk_id"]


async def test_an_empty_json_body_is_taken_and_an_unknown_field_refused(client):
    desk = (await a_desk(client))["desk_id"]
    assert (await client.post(f"/api/desk/{desk}/session", json={})).status_code == 200
    refused = await client.post(f"/api/desk/{desk}/session", json={"name": "retro"})
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")


async def test_the_key_of_a_session_from_the_link_signs_ops(client):
    desk = (await a_desk(client))["desk_id"]
    session = await a_session(client, desk)
    op = an_op(1, session["client_id"], create=True, text="hi")
    unsigned = await client.post(f"/api/desk/{desk}/ops", json=op, headers={"X-Desk-Session": ""})
    assert unsigned.status_code == 403
    signed = await client.post(
        f"/api/desk/{desk}/ops", json=op, headers={"X-Desk-Session": session["session_key"]}
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["desk_seq"] == 1


async def test_the_key_of_a_session_from_the_link_opens_a_socket(parts: Node, client):
    desk = (await a_desk(client))["desk_id"]
    session = await a_session(client, desk)
    async with serving(parts) as port, websockets.connect(live_url(port, desk)) as socket:
        await send(
            socket,
            {
                "type": "hello",
                "client_id": session["client_id"],
                "session_key": session["session_key"],
                "epoch": 1,
                "last_seq": 0,
            },
        )
        assert (await receive(socket))["type"] == "synced"
        op = an_op(1, session["client_id"], create=True) | {"type": "op"}
        await send(socket, op)
        ack = await receive(socket, skip=("presence", "gone", "op"))
        assert (ack["type"], ack["desk_seq"]) == ("ack", 1)


@pytest.mark.parametrize("link", ["AAAAAAAAAAAAAAAAAAAAAA", "nope", "%E2%9C%93" * 8])
async def test_an_unknown_or_malformed_link_gets_no_session(client, link: str):
    response = await client.post(f"/api/desk/{link}/session")
    assert (response.status_code, response.json()["error"]) == (404, "desk_not_found")
    assert response.json()["detail"]


async def test_an_expired_desk_gives_no_session(parts: Node, client, clock: Clock):
    desk = (await a_desk(client))["desk_id"]
    clock.move(parts.settings.desk.ttl_s)
    response = await client.post(f"/api/desk/{desk}/session")
    assert (response.status_code, response.json()["error"]) == (410, "desk_gone")
    assert "session_key" not in response.json()
