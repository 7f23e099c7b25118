"""Finding a desk by name on real PostgreSQL: only desks this browser created or opened."""

from tests.integration.desk.desk_sessions import signed_desk_clients  # noqa: F401 -- autouse


async def find(client, name: str):
    return await client.post("/api/desk/init", json={"name": name, "create_new": False})


async def test_a_name_taken_by_another_browser_answers_exactly_as_an_unknown_one(client):
    made = await client.post("/api/desk/init", json={"name": "standup", "create_new": True})
    assert made.status_code == 200
    assert (await find(client, "standup")).json()["desk_id"] == made.json()["desk_id"]

    client.cookies.clear()  # another browser
    taken, unknown = await find(client, "standup"), await find(client, "nobody's")

    assert taken.status_code == unknown.status_code == 404
    assert taken.json() == unknown.json() == {
        "error": "desk_not_found",
        "detail": "you have not opened a desk of that name",
    }


async def test_the_link_opens_the_desk_and_then_its_name_finds_it_in_that_browser(client):
    made = (await client.post("/api/desk/init", json={"name": "retro", "create_new": True})).json()
    client.cookies.clear()
    assert (await find(client, "retro")).status_code == 404

    joined = await client.post(f"/api/desk/{made['desk_id']}/session", json={})

    assert joined.status_code == 200
    assert (await find(client, "retro")).json()["desk_id"] == made["desk_id"]
