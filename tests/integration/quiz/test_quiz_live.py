import asyncio

import httpx

from api.app import Node, build
from tests.integration.conftest import serving, stop, until
from tests.integration.quiz.quiz_helpers import (
    OWNER,
    a_game,
    a_session,
    host_socket,
    join,
    player_socket,
    receive,
    send,
)

ANSWERS = {  # per task: ann right, bob right, cat wrong
    0: {"Ann": 1, "Bob": 1, "Cat": 0},
    1: {"Ann": "Four", "Bob": "four ", "Cat": "five"},
    2: {"Ann": [0, 1], "Bob": [0], "Cat": [2]},
}


async def test_a_whole_game_with_three_players_over_real_sockets(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}"
    ) as http:
        game = await a_game(http)
        session = await a_session(http, game["id"])
        sid = session["session_id"]
        players = {name: await join(http, session["code"], name) for name in ("Ann", "Bob", "Cat")}
        host = await host_socket(port, sid)
        state = await receive(host, "state")
        assert [p["nickname"] for p in state["players"]] == ["Ann", "Bob", "Cat"]
        sockets = {}
        for name, player in players.items():
            sockets[name], welcome = await player_socket(port, sid, player)
            assert welcome["phase"] == "lobby" and welcome["you"]["nickname"] == name
        for index in range(3):
            await send(host, {"type": "host", "action": "next"})
            for name, socket in sockets.items():
                task = await receive(socket, "task")
                assert task["index"] == index and "correct" not in str(task["task"])
                await send(socket, {"type": "answer", "index": index,
                                    "answer": ANSWERS[index][name]})
                assert (await receive(socket, "ack", "error"))["type"] == "ack"
            results = {name: await receive(s, "results") for name, s in sockets.items()}
            assert results["Ann"]["you"]["right"] is True
            assert results["Cat"]["you"]["right"] is False
            host_results = await receive(host, "results")
            assert host_results["answered"] == 3 and "you" not in host_results
        await send(host, {"type": "host", "action": "next"})
        ended = {name: await receive(s, "ended") for name, s in sockets.items()}
        podium = ended["Ann"]["podium"]
        assert [p["nickname"] for p in podium] == ["Ann", "Bob", "Cat"]
        assert ended["Ann"]["you"]["rank"] == 1 and ended["Ann"]["you"]["right"] == 3
        assert ended["Bob"]["you"]["score"] > 0 and ended["Cat"]["you"]["score"] == 0
        for socket in [host, *sockets.values()]:
            await socket.close()

        async def report():
            response = await http.get(f"/api/quiz/sessions/{sid}/report", headers=OWNER)
            body = response.json()
            return body if response.status_code == 200 and body["ended"] else None

        body = await until(report)
        scores = {p["nickname"]: p["score"] for p in body["players"]}
        assert scores["Ann"] == ended["Ann"]["you"]["score"]
        assert [t["answers"] for t in body["tasks"]] == [3, 3, 3]
        csv = await http.get(f"/api/quiz/sessions/{sid}/report?format=csv", headers=OWNER)
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines()[0].startswith("rank,nickname")
        other = await http.get(f"/api/quiz/sessions/{sid}/report",
                               headers={"X-Dev-User": "eve"})
        assert other.status_code == 403


async def test_a_restart_mid_game_keeps_scores_and_lets_players_rejoin(settings):
    first = await build(settings)
    try:
        async with serving(first) as port, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}"
        ) as http:
            game = await a_game(http)
            session = await a_session(http, game["id"])
            sid = session["session_id"]
            ann = await join(http, session["code"], "Ann")
            bob = await join(http, session["code"], "Bob")
            host = await host_socket(port, sid)
            await receive(host, "state")
            ann_socket, _ = await player_socket(port, sid, ann)
            bob_socket, _ = await player_socket(port, sid, bob)
            await send(host, {"type": "host", "action": "next"})
            for socket, answer in ((ann_socket, 1), (bob_socket, 0)):
                await receive(socket, "task")
                await send(socket, {"type": "answer", "index": 0, "answer": answer})
            before = (await receive(ann_socket, "results"))["you"]["total"]
            assert before > 0
            await send(host, {"type": "host", "action": "next"})
            await receive(ann_socket, "task")
            for socket in (host, ann_socket, bob_socket):
                await socket.close()
    finally:
        await stop(first)
    second = await build(settings)
    try:
        async with serving(second) as port:
            ann_socket, state = await player_socket(port, sid, ann)
            assert state["phase"] == "question" and state["task"]["index"] == 1
            assert state["you"]["score"] == before and state["answered"] is False
            await send(ann_socket, {"type": "answer", "index": 1, "answer": "four"})
            ack = await receive(ann_socket, "ack", "error")
            assert ack["type"] == "ack"
            bob_socket, bob_state = await player_socket(port, sid, bob)
            assert bob_state["you"]["score"] == 0
            await ann_socket.close()
            await bob_socket.close()
    finally:
        await stop(second)


async def test_the_timer_closes_a_task_whose_time_is_up(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}"
    ) as http:
        task = {"kind": "true_false", "text": "Quick?", "time_limit_s": 5,
                "options": [{"text": "True", "correct": True}, {"text": "False"}]}
        game = await a_game(http, tasks=[task])
        session = await a_session(http, game["id"])
        ann = await join(http, session["code"], "Ann")
        socket, _ = await player_socket(port, session["session_id"], ann)
        started = await http.post(f"/api/quiz/sessions/{session['session_id']}/next",
                                  headers=OWNER)
        assert started.status_code == 200
        await receive(socket, "task")
        results = await asyncio.wait_for(receive(socket, "results"), 15)
        assert results["reason"] == "time" and results["you"]["answered"] is False
        await socket.close()
