import uuid

import httpx
import pytest
import websockets

from api.app import Node
from tests.integration.conftest import serving
from tests.integration.quiz.quiz_helpers import (
    OWNER,
    a_game,
    a_session,
    host_socket,
    join,
    live_url,
    player_socket,
    receive,
    send,
)


async def events(parts: Node) -> int:
    return await parts.pool.fetchval(
        f'SELECT count(*) FROM "{parts.settings.schema}".quizzes_events')


async def test_joining_with_a_wrong_code_a_started_game_or_a_taken_nickname_is_refused(
    client: httpx.AsyncClient, parts: Node
):
    game = await a_game(client)
    session = await a_session(client, game["id"])
    await join(client, session["code"], "Ann")
    before = await events(parts)
    for code, nickname, status, error in (
        ("ZZZZZZ", "Bob", 404, "wrong_code"),
        ("0O1IL0", "Bob", 404, "wrong_code"),
        (session["code"], "ann", 409, "nickname_taken"),
        (session["code"], "   ", 422, "invalid_nickname"),
        (session["code"], "Bob\u0000", 422, "invalid_text"),
    ):
        response = await client.post("/api/quiz/join", json={"code": code, "nickname": nickname})
        assert (response.status_code, response.json()["error"]) == (status, error), code
    assert await events(parts) == before
    started = await client.post(f"/api/quiz/sessions/{session['session_id']}/next",
                                headers=OWNER)
    assert started.status_code == 200
    late = await client.post("/api/quiz/join", json={"code": session["code"], "nickname": "Bob"})
    assert (late.status_code, late.json()["error"]) == (409, "game_started")


async def test_unknown_sessions_and_other_peoples_games_are_refused(client: httpx.AsyncClient):
    unknown = await client.post(f"/api/quiz/sessions/{uuid.uuid4()}/next", headers=OWNER)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "session_not_found")
    game = await a_game(client)
    eve = {"X-Dev-User": "eve"}
    for response in (
        await client.post("/api/quiz/sessions", json={"game_id": game["id"]}, headers=eve),
        await client.patch(f"/api/quiz/games/{game['id']}", json={"title": "mine"}, headers=eve),
        await client.delete(f"/api/quiz/games/{game['id']}", headers=eve),
    ):
        assert (response.status_code, response.json()["error"]) == (403, "not_allowed")
    hidden = await client.get(f"/api/quiz/games/{game['id']}", headers=eve)
    assert hidden.status_code == 404
    session = await a_session(client, game["id"])
    host_only = await client.post(f"/api/quiz/sessions/{session['session_id']}/next",
                                  headers=eve)
    assert host_only.status_code == 403


@pytest.mark.parametrize(
    ("task", "error"),
    [
        ({"kind": "single", "text": "q", "options": [{"text": "a"}, {"text": "b"}]},
         "invalid_task"),
        ({"kind": "true_false", "text": "q", "time_limit_s": 300,
          "options": [{"text": "T", "correct": True}, {"text": "F"}]}, "invalid_task"),
        ({"kind": "essay", "text": "q"}, "invalid_task"),
    ],
)
async def test_bad_tasks_are_refused(client: httpx.AsyncClient, task, error):
    game = await a_game(client, tasks=[])
    response = await client.post(f"/api/quiz/games/{game['id']}/tasks", json=task,
                                 headers=OWNER)
    assert (response.status_code, response.json()["error"]) == (422, error)
    unchanged = await client.post(f"/api/quiz/games/{game['id']}/copy", headers=OWNER)
    assert unchanged.json()["tasks"] == []


async def test_bad_answers_and_frames_get_an_error_frame_and_change_nothing(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}"
    ) as http:
        game = await a_game(http)
        session = await a_session(http, game["id"])
        sid = session["session_id"]
        ann = await join(http, session["code"], "Ann")
        await join(http, session["code"], "Bob")
        socket, _ = await player_socket(port, sid, ann)
        await send(socket, {"type": "answer", "index": 0, "answer": 1})
        assert (await receive(socket, "error"))["error"] == "task_not_current"
        host = await host_socket(port, sid)
        await receive(host, "state")
        await send(host, {"type": "host", "action": "next"})
        await receive(socket, "task")
        await send(socket, {"type": "answer", "index": 2, "answer": 1})
        assert (await receive(socket, "error"))["error"] == "task_not_current"
        await send(socket, {"type": "answer", "index": 0, "answer": 17})
        assert (await receive(socket, "error"))["error"] == "invalid_answer"
        await socket.send("{not json")
        assert (await receive(socket, "error"))["error"] == "invalid_message"
        await send(socket, {"type": "answer", "index": 0, "answer": 1, "extra": 1})
        assert (await receive(socket, "error"))["error"] == "invalid_message"
        await send(socket, {"type": "host", "action": "next"})
        assert (await receive(socket, "error"))["error"] == "not_allowed"
        before = await events(parts)
        await send(socket, {"type": "answer", "index": 0, "answer": 1})
        assert (await receive(socket, "ack"))["index"] == 0
        assert await events(parts) == before + 1
        await send(socket, {"type": "answer", "index": 0, "answer": 2})
        assert (await receive(socket, "error"))["error"] == "already_answered"
        await send(socket, {"type": "ping"})
        await receive(socket, "pong")
        assert await events(parts) == before + 1
        await socket.close()
        await host.close()


async def test_a_socket_with_a_wrong_token_or_an_unknown_session_is_closed(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}"
    ) as http:
        game = await a_game(http)
        session = await a_session(http, game["id"])
        ann = await join(http, session["code"], "Ann")
        for sid, token, code in (
            (session["session_id"], "wrong", 4403),
            (str(uuid.uuid4()), ann["token"], 4404),
        ):
            async with websockets.connect(live_url(port, sid)) as socket:
                await send(socket, {"type": "hello", "role": "player",
                                    "player_id": ann["player_id"], "token": token})
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await receive(socket)
                assert closed.value.rcvd.code == code


async def test_a_kicked_player_is_closed_and_cannot_rejoin(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}"
    ) as http:
        game = await a_game(http)
        session = await a_session(http, game["id"])
        sid = session["session_id"]
        bob = await join(http, session["code"], "Bob")
        socket, _ = await player_socket(port, sid, bob)
        kicked = await http.post(f"/api/quiz/sessions/{sid}/kick",
                                 json={"player_id": bob["player_id"]}, headers=OWNER)
        assert kicked.status_code == 200
        assert (await receive(socket, "kicked"))["player_id"] == bob["player_id"]
        with pytest.raises(websockets.ConnectionClosed):
            await receive(socket)
        async with websockets.connect(live_url(port, sid)) as again:
            await send(again, {"type": "hello", "role": "player", "player_id": bob["player_id"],
                               "token": bob["token"]})
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await receive(again)
            assert closed.value.rcvd.code == 4403
