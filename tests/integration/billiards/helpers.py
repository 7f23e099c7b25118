"""Billiards over real HTTP and WebSockets on a served node, as development identities."""

from __future__ import annotations

import asyncio
from itertools import count
from typing import Any

import httpx
import msgspec

from domain.billiards.rules import BUILT_IN_IDS

_keys = count(1)


def key() -> str:
    return f"key-{next(_keys)}"


def as_user(user: str) -> dict[str, str]:
    return {"X-Dev-User": user}


async def a_match(
    http: httpx.AsyncClient, game: str = "american", guests: tuple[str, ...] = ("Bob",), **extra: Any
) -> dict[str, Any]:
    body = {
        "template_id": str(BUILT_IN_IDS[game]),
        "players": [{"name": "Ann", "me": True}, *({"name": name} for name in guests)],
        **extra,
    }
    response = await http.post("/api/billiards/matches", json=body, headers=as_user("ann"))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def shoot(
    http: httpx.AsyncClient, match_id: str, user: str = "ann", **shot: Any
) -> httpx.Response:
    return await http.post(
        f"/api/billiards/matches/{match_id}/shots",
        json={"key": key(), **shot},
        headers=as_user(user),
    )


async def receive(socket: Any) -> dict[str, Any]:
    frame: dict[str, Any] = msgspec.json.decode(await asyncio.wait_for(socket.recv(), 10))
    return frame


async def until_synced(socket: Any) -> list[dict[str, Any]]:
    frames = [await receive(socket)]
    while frames[-1]["type"] != "synced":
        frames.append(await receive(socket))
    return frames
