"""A club's queue on real PostgreSQL and NATS: the next players are called over the club's
socket, one who does not confirm in time loses his turn, a match is created for those who did,
and its end frees the table."""

from __future__ import annotations

import uuid

import httpx
import websockets

from api.app import Node
from tests.integration.billiards.helpers import as_user, receive, shoot
from tests.integration.conftest import serving, until

ADMIN = {"X-Dev-User": "boss", "X-Dev-Roles": "admin"}


async def test_a_call_not_confirmed_in_time_passes_to_the_next_player(parts: Node):
    async with serving(parts) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        created = await http.post(
            "/api/billiards/clubs",
            json={"name": "Artel", "tables": [{"id": "t1", "name": "Table 1", "game": "american"}],
                  "confirm_s": 0.5},
            headers=ADMIN,
        )
        assert created.status_code == 201, created.text
        club_id = created.json()["id"]
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/api/billiards/clubs/{club_id}/live"
        ) as watcher:
            assert (await receive(watcher))["type"] == "club"
            for user in ("ann", "bob", "cat", "dan"):
                joined = await http.post(
                    f"/api/billiards/clubs/{club_id}/queue",
                    json={"name": user.title(), "game": "american"},
                    headers=as_user(user),
                )
                assert joined.status_code == 200, joined.text
            view = joined.json()
            table = view["tables"][0]
            assert table["state"] == "calling"
            metrics = (await http.get("/metrics")).text  # cat and dan wait; ann and bob are called
            assert "\ntessera_billiards_queue_length 2.0\n" in metrics
            assert [e["account"] for e in table["called"]] == ["ann", "bob"]
            assert [(e["account"], e["position"]) for e in view["queue"]] == [("cat", 1), ("dan", 2)]
            assert view["queue"][0]["wait_minutes"] > 0

            confirmed = await http.post(
                f"/api/billiards/clubs/{club_id}/confirm", headers=as_user("ann")
            )
            assert confirmed.json()["tables"][0]["confirmed"] == ["ann"]

            # bob never confirms: the call expires, ann keeps her place, cat is called
            frame = await receive(watcher)
            while [e["account"] for e in frame["club"]["tables"][0]["called"]] != ["ann", "cat"]:
                frame = await receive(watcher)
            assert [e["account"] for e in frame["club"]["queue"]] == ["dan"]
            late = await http.post(f"/api/billiards/clubs/{club_id}/confirm", headers=as_user("bob"))
            assert late.status_code == 409 and late.json()["error"] == "not_in_queue"

            for user in ("ann", "cat"):
                answer = await http.post(
                    f"/api/billiards/clubs/{club_id}/confirm", headers=as_user(user)
                )
                assert answer.status_code == 200, answer.text
            table = answer.json()["tables"][0]
            assert table["state"] == "playing"
            match_id = table["match_id"]
            board = (await http.get(f"/api/billiards/matches/{match_id}")).json()
            assert [p["account"] for p in board["players"]] == ["ann", "cat"]
            assert board["table_id"] == f"{club_id}/t1"

            assert (await shoot(http, match_id, shooter=0, balls=8)).status_code == 200

            async def freed():
                club = (await http.get(f"/api/billiards/clubs/{club_id}")).json()
                return club["tables"][0]["state"] == "free" and club

            club = await until(freed)
            assert [e["account"] for e in club["queue"]] == ["dan"]
            assert uuid.UUID(match_id)
