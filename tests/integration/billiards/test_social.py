"""Friends and groups on real PostgreSQL and NATS: players find each other by share link or
Telegram username, friend, block; groups take members by invite link or by request; bad input
gets a clear 4xx and changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest_asyncio

from infra.settings import Settings
from tests.integration.billiards.helpers import a_match, as_user
from tests.integration.billiards.social_helpers import a_profile, befriend
from tests.integration.conftest import until


@pytest_asyncio.fixture
async def settings(make_settings: Callable[..., Awaitable[Settings]]) -> Settings:
    """No rate limits: the tests poll the read models."""
    return await make_settings(rate_ip_per_s=0, identity={"rate_account_per_s": 0})


async def friends_of(http: httpx.AsyncClient, user: str) -> dict[str, str]:
    listed = await http.get("/api/billiards/friends", headers=as_user(user))
    assert listed.status_code == 200, listed.text
    return {row["account"]: row["state"] for row in listed.json()}


async def test_a_player_found_by_share_code_becomes_a_friend(client: httpx.AsyncClient):
    await a_profile(client, "ann")
    bob = await a_profile(client, "bob")
    await until(lambda: _findable(client, {"code": bob["share_code"]}))
    asked = await client.post("/api/billiards/friends/requests", json={"code": bob["share_code"]},
                              headers=as_user("ann"))
    assert asked.status_code == 200, asked.text
    assert asked.json()["state"] == "outgoing"
    assert await until(lambda: _has(client, "bob", {"ann": "incoming"}))
    accepted = await client.post("/api/billiards/friends/ann/accept", headers=as_user("bob"))
    assert accepted.status_code == 204, accepted.text
    assert await until(lambda: _has(client, "ann", {"bob": "friend"}))
    assert await until(lambda: _has(client, "bob", {"ann": "friend"}))


async def _findable(http: httpx.AsyncClient, body: dict[str, str]) -> bool:
    """The players read model has the profile (it follows the events by a moment)."""
    found = await http.post("/api/billiards/friends/find", json=body, headers=as_user("ann"))
    return found.status_code == 200


async def _has(http: httpx.AsyncClient, user: str, expected: dict[str, str]) -> bool:
    return await friends_of(http, user) == expected


async def test_friending_yourself_is_refused(client: httpx.AsyncClient):
    await a_profile(client, "ann")
    answer = await client.post("/api/billiards/friends/requests", json={"account": "ann"},
                               headers=as_user("ann"))
    assert answer.status_code == 422
    assert answer.json()["error"] == "cannot_friend_yourself"


async def test_a_blocked_player_can_neither_request_nor_invite(client: httpx.AsyncClient):
    for user in ("ann", "bob"):
        await a_profile(client, user)
    await befriend(client, "ann", "bob")
    blocked = await client.post("/api/billiards/friends/ann/block", headers=as_user("bob"))
    assert blocked.status_code == 204, blocked.text

    again = await client.post("/api/billiards/friends/requests", json={"account": "bob"},
                              headers=as_user("ann"))
    assert again.status_code == 403 and again.json()["error"] == "blocked"
    match = await a_match(client)
    invite = await client.post(
        "/api/billiards/friends/invitations",
        json={"friend": "bob", "match_id": match["id"], "invite": match["invite"]},
        headers=as_user("ann"),
    )
    assert invite.status_code == 403 and invite.json()["error"] == "blocked"
    assert await until(lambda: _has(client, "bob", {"ann": "blocked"}))
    assert await friends_of(client, "ann") == {}


async def test_friends_need_a_profile_first(client: httpx.AsyncClient):
    await a_profile(client, "bob")
    answer = await client.post("/api/billiards/friends/requests", json={"account": "bob"},
                               headers=as_user("nobody"))
    assert answer.status_code == 409 and answer.json()["error"] == "no_profile"


async def test_an_unknown_share_code_is_not_found(client: httpx.AsyncClient):
    await a_profile(client, "ann")
    answer = await client.post("/api/billiards/friends/requests", json={"code": "no-such-code"},
                               headers=as_user("ann"))
    assert answer.status_code == 404 and answer.json()["error"] == "player_not_found"


async def a_group(http: httpx.AsyncClient, owner: str, **extra: Any) -> dict[str, Any]:
    created = await http.post("/api/billiards/groups", json={"name": "Artel", **extra},
                              headers=as_user(owner))
    assert created.status_code == 201, created.text
    group: dict[str, Any] = created.json()
    return group


async def test_a_closed_group_takes_the_invited_at_once_and_the_others_by_request(
    client: httpx.AsyncClient,
):
    for user in ("ann", "bob", "cat"):
        await a_profile(client, user)
    group = await a_group(client, "ann", open=False)
    gid = group["id"]
    joined = await client.post(f"/api/billiards/groups/{gid}/join",
                               json={"invite": group["invite"]}, headers=as_user("bob"))
    assert joined.status_code == 200 and joined.json()["member"] is True
    asked = await client.post(f"/api/billiards/groups/{gid}/join", json={},
                              headers=as_user("cat"))
    assert asked.status_code == 200 and asked.json()["member"] is False
    approved = await client.post(f"/api/billiards/groups/{gid}/requests/cat/approve",
                                 headers=as_user("ann"))
    assert approved.status_code == 200, approved.text

    async def members() -> Any:
        page = await client.get(f"/api/billiards/groups/{gid}", headers=as_user("ann"))
        return page.status_code == 200 and [(m["account"], m["role"])
                                            for m in page.json()["members"]]

    assert await until(lambda: _equal(members(), [("ann", "owner"), ("bob", "member"),
                                                  ("cat", "member")]))
    board = (await client.get(f"/api/billiards/groups/{gid}/leaderboard",
                              headers=as_user("bob"))).json()
    # Ranked on the players read model: nobody has a rated match yet, so all are listed after.
    assert board["ranked"] is True
    assert {p["account"] for p in board["players"]} == {"ann", "bob", "cat"}
    assert all(p.get("rank") is None for p in board["players"])


async def _equal(value: Awaitable[Any], expected: Any) -> bool:
    return await value == expected


async def test_a_member_cannot_manage_a_group_he_does_not_run(client: httpx.AsyncClient):
    for user in ("ann", "bob", "cat"):
        await a_profile(client, user)
    group = await a_group(client, "ann")
    gid = group["id"]
    for user in ("bob", "cat"):
        joined = await client.post(f"/api/billiards/groups/{gid}/join", json={},
                                   headers=as_user(user))
        assert joined.json()["member"] is True
    refused = [
        await client.delete(f"/api/billiards/groups/{gid}/members/cat", headers=as_user("bob")),
        await client.put(f"/api/billiards/groups/{gid}/members/cat/role", json={"role": "admin"},
                         headers=as_user("bob")),
        await client.patch(f"/api/billiards/groups/{gid}", json={"open": False},
                           headers=as_user("bob")),
        await client.post(f"/api/billiards/groups/{gid}/templates",
                          json={"base": "american", "name": "Ours"}, headers=as_user("bob")),
    ]
    assert [(r.status_code, r.json()["error"]) for r in refused] == [(403, "not_group_admin")] * 4
    wrong = await client.post(f"/api/billiards/groups/{gid}/join", json={"invite": "guess"},
                              headers=as_user("dan"))
    assert wrong.status_code == 409 and wrong.json()["error"] == "no_profile"


async def test_an_admin_keeps_the_group_templates(client: httpx.AsyncClient):
    for user in ("ann", "bob"):
        await a_profile(client, user)
    group = await a_group(client, "ann")
    gid = group["id"]
    await client.post(f"/api/billiards/groups/{gid}/join", json={}, headers=as_user("bob"))
    made_admin = await client.put(f"/api/billiards/groups/{gid}/members/bob/role",
                                  json={"role": "admin"}, headers=as_user("ann"))
    assert made_admin.status_code == 200, made_admin.text
    created = await client.post(f"/api/billiards/groups/{gid}/templates",
                                json={"base": "american", "name": "League", "params": {}},
                                headers=as_user("bob"))
    assert created.status_code == 201, created.text

    async def listed() -> Any:
        return (await client.get(f"/api/billiards/groups/{gid}/templates")).json()

    templates = await until(listed)
    assert [t["name"] for t in templates] == ["League"]
    own = await client.put(f"/api/billiards/templates/{templates[0]['id']}",
                           json={"params": {}}, headers=as_user("bob"))
    assert own.status_code == 403 and own.json()["error"] == "not_template_owner"


async def test_a_closed_group_shows_its_members_to_members_only(client: httpx.AsyncClient):
    for user in ("ann", "bob"):
        await a_profile(client, user)
    group = await a_group(client, "ann", open=False)
    gid = group["id"]
    page = await client.get(f"/api/billiards/groups/{gid}", headers=as_user("bob"))
    assert page.status_code == 200 and page.json()["members"] == []
    for path in ("leaderboard", "feed"):
        refused = await client.get(f"/api/billiards/groups/{gid}/{path}", headers=as_user("bob"))
        assert refused.status_code == 403 and refused.json()["error"] == "not_group_member"
    shown = await client.get(f"/api/billiards/groups/{gid}/leaderboard", headers=as_user("ann"))
    assert shown.status_code == 200 and shown.json()["players"][0]["account"] == "ann"


async def test_a_match_of_a_group_template_is_in_the_groups_feed(client: httpx.AsyncClient):
    for user in ("ann", "bob"):
        await a_profile(client, user)
    group = await a_group(client, "ann")
    gid = group["id"]
    await client.post(f"/api/billiards/groups/{gid}/join", json={}, headers=as_user("bob"))
    made = await client.post(f"/api/billiards/groups/{gid}/templates",
                             json={"base": "american", "name": "League"}, headers=as_user("ann"))
    assert made.status_code == 201, made.text

    async def offered() -> Any:  # bob, a member, is offered the group's template
        listed = await client.get("/api/billiards/templates", headers=as_user("bob"))
        return [t for t in listed.json() if t["name"] == "League"]

    (template,) = await until(offered)
    created = await client.post(
        "/api/billiards/matches",
        json={"template_id": template["id"], "players": [{"name": "Bob", "me": True},
                                                         {"name": "Guest"}]},
        headers=as_user("bob"),
    )
    assert created.status_code == 201, created.text

    async def fed() -> Any:
        return (await client.get(f"/api/billiards/groups/{gid}/feed")).json()

    (entry,) = await until(fed)
    assert entry["match_id"] == created.json()["id"] and entry["template"] == "League"
