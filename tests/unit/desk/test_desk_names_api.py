"""Finding a desk by name over HTTP: only a desk this browser (its `tessera_desk_key` cookie) or
this account created or opened before; anything else is the same 404."""

from __future__ import annotations

from tests.support.clock import ManualClock
from tests.unit.desk.test_desk_api import desk_parts, open_desk, serve


async def find(http, name: str = "retro", **headers: str):
    return await http.post(
        "/api/desk/init", json={"name": name, "create_new": False}, headers=headers
    )


async def test_the_browser_that_made_a_desk_finds_it_by_name():
    async with serve(desk_parts(ManualClock())) as http:
        made = await open_desk(http)
        found = await find(http)
    assert found.status_code == 200
    assert found.json()["desk_id"] == made["desk_id"]
    assert "creator_token" not in found.json()


async def test_the_browser_key_is_an_http_only_strict_cookie_for_the_desk_api():
    async with serve(desk_parts(ManualClock())) as http:
        response = await http.post("/api/desk/init", json={"name": "retro", "create_new": True})
        again = await http.post("/api/desk/init", json={"name": "other", "create_new": True})
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("tessera_desk_key=")
    for part in ("HttpOnly", "Path=/api/desk", "SameSite=strict"):
        assert part.lower() in cookie.lower()
    assert "set-cookie" not in again.headers  # kept, not given out again


async def test_another_browser_gets_the_same_404_for_a_taken_name_and_an_unknown_one():
    async with serve(desk_parts(ManualClock())) as http:
        await open_desk(http, "retro")
        http.cookies.clear()  # another browser
        taken = await find(http, "retro")
        unknown = await find(http, "never made")
    assert taken.status_code == unknown.status_code == 404
    assert taken.json() == unknown.json()
    assert taken.json()["error"] == "desk_not_found"
    assert set(taken.headers) == set(unknown.headers)


async def test_an_unknown_name_creates_no_desk():
    async with serve(desk_parts(ManualClock())) as http:
        first = await find(http, "fresh")
        second = await find(http, "fresh")
    assert first.status_code == second.status_code == 404


async def test_a_desk_opened_by_its_link_is_then_found_by_its_name_in_that_browser():
    async with serve(desk_parts(ManualClock())) as http:
        made = await open_desk(http, "retro")
        http.cookies.clear()  # another browser, given the link
        joined = await http.post(f"/api/desk/{made['desk_id']}/session", json={})
        found = await find(http, "retro")
    assert joined.status_code == 200
    assert found.status_code == 200 and found.json()["desk_id"] == made["desk_id"]


async def test_a_signed_in_account_finds_its_desks_from_another_browser():
    async with serve(desk_parts(ManualClock())) as http:
        made = (
            await http.post(
                "/api/desk/init",
                json={"name": "retro", "create_new": True},
                headers={"X-Dev-User": "ann"},
            )
        ).json()
        http.cookies.clear()
        as_ann = await find(http, "retro", **{"X-Dev-User": "ann"})
        http.cookies.clear()  # and a third one
        as_bob = await find(http, "retro", **{"X-Dev-User": "bob"})
    assert as_ann.json()["desk_id"] == made["desk_id"]
    assert as_bob.status_code == 404


async def test_a_forged_browser_key_finds_nothing():
    async with serve(desk_parts(ManualClock())) as http:
        await open_desk(http, "retro")
        http.cookies.clear()
        http.cookies.set("tessera_desk_key", "x" * 43, domain="tessera.test", path="/api/desk")
        found = await find(http, "retro")
    assert found.status_code == 404
