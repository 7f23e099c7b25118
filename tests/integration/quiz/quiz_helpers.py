"""Driving a quiz over HTTP and real sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec
import websockets

OWNER = {"X-Dev-User": "owner"}


def single(text: str, right: int) -> dict[str, Any]:
    return {"kind": "single", "text": text, "time_limit_s": 20,
            "options": [{"text": f"o{i}", "correct": i == right} for i in range(4)]}


THREE_TASKS = [
    single("Capital of France?", 1),
    {"kind": "type_answer", "text": "2 + 2 in words?", "accepted": ["four"], "time_limit_s": 20},
    {"kind": "multiple", "text": "Primes?", "time_limit_s": 20,
     "options": [{"text": "2", "correct": True}, {"text": "3", "correct": True},
                 {"text": "4"}]},
]


async def a_game(http: httpx.AsyncClient, tasks: list[dict] | None = None, **details) -> dict:
    body = {"title": "Test quiz", "tasks": THREE_TASKS if tasks is None else tasks, **details}
    response = await http.post("/api/quiz/games", json=body, headers=OWNER)
    assert response.status_code == 201, response.text
    return response.json()


async def a_session(http: httpx.AsyncClient, game_id: str, **options) -> dict:
    response = await http.post("/api/quiz/sessions", json={"game_id": game_id, **options},
                               headers=OWNER)
    assert response.status_code == 201, response.text
    return response.json()


async def join(http: httpx.AsyncClient, code: str, nickname: str) -> dict:
    response = await http.post("/api/quiz/join", json={"code": code, "nickname": nickname})
    assert response.status_code == 201, response.text
    return response.json()


def live_url(port: int, session_id: str) -> str:
    return f"ws://127.0.0.1:{port}/api/quiz/sessions/{session_id}/live"


async def send(socket: Any, message: dict) -> None:
    await socket.send(msgspec.json.encode(message).decode())


_kept: dict[int, list[dict]] = {}


async def receive(socket: Any, *types: str) -> dict:
    """The next frame of one of `types` (any, without); the frames passed over are kept for a
    later call (an answer's results may come before its ack)."""
    kept = _kept.setdefault(id(socket), [])
    for frame in kept:
        if not types or frame["type"] in types:
            kept.remove(frame)
            return frame
    while True:
        frame = msgspec.json.decode(await asyncio.wait_for(socket.recv(), 15))
        if not types or frame["type"] in types:
            return frame
        kept.append(frame)


async def host_socket(port: int, session_id: str) -> Any:
    socket = await websockets.connect(live_url(port, session_id), additional_headers=OWNER)
    await send(socket, {"type": "hello", "role": "host"})
    return socket


async def player_socket(port: int, session_id: str, player: dict) -> tuple[Any, dict]:
    socket = await websockets.connect(live_url(port, session_id))
    await send(socket, {"type": "hello", "role": "player", "player_id": player["player_id"],
                        "token": player["token"]})
    return socket, await receive(socket, "state")
