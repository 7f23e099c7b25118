"""Shots sent, the node killed with SIGKILL as a batch of them commits, everything unanswered
sent again under its key: each shot is recorded once, in order, and every one is answered."""

from __future__ import annotations

from collections import Counter as Tally

import asyncpg
import httpx
import msgspec
import pytest

from domain.billiards.rules import BUILT_IN_IDS
from tests.support.crash import HttpCommands, Request, Server, resent_after_crash

pytestmark = [pytest.mark.integration, pytest.mark.crash]
SHOTS = 20


class StoredShot(msgspec.Struct):
    key: str


async def stored_keys(settings) -> dict[str, list[str]]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            f'SELECT originator_id, state FROM "{settings.schema}".billiards_events '
            "WHERE topic LIKE '%ShotRecorded' ORDER BY originator_id, originator_version"
        )
    finally:
        await conn.close()
    keys: dict[str, list[str]] = {}
    for row in rows:
        shot = msgspec.msgpack.decode(row["state"], type=StoredShot)
        keys.setdefault(str(row["originator_id"]), []).append(shot.key)
    return keys


def a_scorekeeper(user: str, match_id: str) -> HttpCommands:
    """One phone: its match's shots in order, one at a time (each passes the turn)."""
    return HttpCommands(
        {
            f"s{k}": Request(
                "POST", f"/api/billiards/matches/{match_id}/shots",
                {"key": f"s{k}", "shooter": (k - 1) % 2, "fouls": ["touch"] if k % 5 == 0 else []},
                {"X-Dev-User": user},
            )
            for k in range(1, SHOTS + 1)
        },
        in_flight=1,
    )


async def test_shots_resent_after_a_kill_are_recorded_once(make_settings, tmp_path):
    settings = await make_settings(rate_ip_per_s=0, identity={"rate_account_per_s": 0})
    async with Server(settings, tmp_path) as server:
        keepers = []
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            for n in range(6):
                created = await http.post(
                    "/api/billiards/matches",
                    json={"template_id": str(BUILT_IN_IDS["american"]),
                          "players": [{"name": "A", "me": True}, {"name": "B"}]},
                    headers={"X-Dev-User": f"keeper{n}"},
                )
                assert created.status_code == 201, created.text
                keepers.append((created.json()["id"], a_scorekeeper(f"keeper{n}", created.json()["id"])))
        await resent_after_crash(
            server, [k for _, k in keepers], kill_after=30, at_commit_to="billiards_events"
        )
    stored = await stored_keys(settings)
    for match_id, keeper in keepers:
        assert stored[match_id] == [f"s{k}" for k in range(1, SHOTS + 1)], "a shot lost or twice"
        assert {status for status, _ in keeper.answers.values()} == {200}
        versions = [keeper.answers[f"s{k}"][1]["version"] for k in range(1, SHOTS + 1)]
        assert versions == list(range(2, SHOTS + 2))
    assert Tally(len(keys) for keys in stored.values()) == {SHOTS: len(keepers)}
