"""Profiles, friends and groups over HTTP, as development identities."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.billiards.helpers import as_user
from tests.support.signing import telegram_init_data


async def a_profile(
    http: httpx.AsyncClient, user: str, *, telegram_id: int | None = None
) -> dict[str, Any]:
    """`user`'s billiards profile; with `telegram_id`, signed in from Telegram (username
    `<user>_tg`)."""
    body: dict[str, Any] = {"name": user.title()}
    if telegram_id is not None:
        body["init_data"] = telegram_init_data(telegram_id, username=f"{user}_tg")
    response = await http.put("/api/billiards/me", json=body, headers=as_user(user))
    assert response.status_code == 200, response.text
    profile: dict[str, Any] = response.json()
    return profile


async def befriend(http: httpx.AsyncClient, user: str, other: str) -> None:
    asked = await http.post("/api/billiards/friends/requests", json={"account": other},
                            headers=as_user(user))
    assert asked.status_code == 200, asked.text
    accepted = await http.post(f"/api/billiards/friends/{user}/accept", headers=as_user(other))
    assert accepted.status_code == 204, accepted.text
