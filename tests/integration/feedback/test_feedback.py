import asyncio
import time
import uuid

import asyncpg
import pytest

from tests.integration.conftest import until

ADMIN = {"X-Dev-User": str(uuid.uuid4()), "X-Dev-Roles": "admin"}


async def stored_feedback(settings) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetchval(f'SELECT count(*) FROM "{settings.schema}".feedbacks_events')
    finally:
        await conn.close()


def named(error, field) -> bool:
    """Whether a 400 body names the field: the domain's `field`, or the decoder's problem."""
    if error.get("field") == field:
        return True
    problems = error["detail"]["problems"] if isinstance(error["detail"], dict) else []
    return any(p["key"] == field or f"`{field}`" in p["message"] for p in problems)


async def submit(client, headers=None, **body):
    response = await client.post("/api/feedback", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def listed(client, count, **params):
    """The admins' list once it shows `count` items."""

    async def check():
        response = await client.get("/api/admin/feedback", params=params, headers=ADMIN)
        if response.status_code == 429:  # polled faster than an IP may read: wait as told
            await asyncio.sleep(response.json()["wait_ms"] / 1000)
            return False
        assert response.status_code == 200, response.text
        items = response.json()
        return len(items) == count and items

    return await until(check)


async def test_feedback_from_a_visitor_is_listed_for_admins_newest_first(client):
    canvas_id = str(uuid.uuid4())
    first = await submit(client, message="The palette needs brown")
    second = await client.post(
        "/api/feedback",
        json={
            "message": "  Zoom jumps on my phone  ",
            "contact": "ann@example.com",
            "canvas_id": canvas_id,
            "page": "/?canvas=" + canvas_id,
        },
        headers={"User-Agent": "Mozilla/5.0 (Android 14)"},
    )
    assert second.status_code == 201
    newest, oldest = await listed(client, 2)
    assert (newest["id"], oldest["id"]) == (second.json()["id"], first)
    assert newest["message"] == "Zoom jumps on my phone"
    assert newest["contact"] == "ann@example.com"
    assert newest["canvas_id"] == canvas_id and newest["page"] == "/?canvas=" + canvas_id
    assert newest["user_agent"] == "Mozilla/5.0 (Android 14)"
    assert newest["account_id"] is None and newest["resolved_at"] is None
    assert oldest["contact"] is None and oldest["submitted_at"] < newest["submitted_at"]


async def test_admins_page_through_feedback(client):
    ids = [await submit(client, message=f"note {n}") for n in range(3)]
    await listed(client, 3)  # all projected before paging
    response = await client.get("/api/admin/feedback", params={"limit": 2}, headers=ADMIN)
    first_page = response.json()
    assert [item["id"] for item in first_page] == ids[:0:-1]
    response = await client.get(
        "/api/admin/feedback", params={"before": first_page[-1]["id"]}, headers=ADMIN
    )
    assert [item["id"] for item in response.json()] == [ids[0]]


async def test_only_admins_read_feedback(client):
    await submit(client, message="hello")
    assert (await client.get("/api/admin/feedback")).status_code == 401
    player = {"X-Dev-User": str(uuid.uuid4())}
    response = await client.get("/api/admin/feedback", headers=player)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    some_id = str(uuid.uuid4())
    response = await client.post(f"/api/admin/feedback/{some_id}/resolve", headers=player)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": ""}, "message"),
        ({"message": " \n\t "}, "message"),
        ({"message": "x" * 4001}, "message"),
        ({"message": 42}, "message"),
        ({"message": "hi", "contact": "c" * 201}, "contact"),
        ({"message": "hi", "canvas_id": "not-a-uuid"}, "canvas_id"),
        ({"message": "hi", "page": "/" * 301}, "page"),
        ({"message": "hi", "admin": True}, "admin"),
    ],
)
async def test_bad_feedback_is_refused_naming_the_field_and_stores_nothing(
    client, settings, body, field
):
    response = await client.post("/api/feedback", json=body)
    assert response.status_code == 400, response.text
    assert named(response.json(), field), response.text
    assert await stored_feedback(settings) == 0


async def test_a_body_that_is_not_json_is_refused(client, settings):
    response = await client.post(
        "/api/feedback", content=b"message=hi", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert await stored_feedback(settings) == 0


async def test_signed_in_feedback_carries_the_account(client, parts):
    account_id = uuid.uuid4()
    token = parts["identity"].gate.issuer.issue(
        account_id=account_id, roles=[], session_id=uuid.uuid4(), now=int(time.time())
    )
    await submit(client, {"Authorization": f"Bearer {token}"}, message="signed in")
    dev_user = str(uuid.uuid4())
    await submit(client, {"X-Dev-User": dev_user}, message="dev user")
    newest, oldest = await listed(client, 2)
    assert oldest["account_id"] == str(account_id)
    assert newest["account_id"] == dev_user


async def test_a_bad_token_is_refused_rather_than_sent_anonymously(client, settings):
    response = await client.post(
        "/api/feedback", json={"message": "hi"}, headers={"Authorization": "Bearer nonsense"}
    )
    assert response.status_code == 401
    assert await stored_feedback(settings) == 0


async def test_an_admin_resolves_feedback(client):
    open_id = await submit(client, message="still open")
    done_id = await submit(client, message="fixed already")
    response = await client.post(f"/api/admin/feedback/{done_id}/resolve", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": done_id, "resolved_by": ADMIN["X-Dev-User"]}

    async def resolved():
        items = await listed(client, 2)
        return next(i for i in items if i["id"] == done_id)["resolved_at"] is not None and items

    items = await until(resolved)
    done = next(i for i in items if i["id"] == done_id)
    assert done["resolved_by"] == ADMIN["X-Dev-User"]
    assert [i["id"] for i in await listed(client, 1, unresolved="true")] == [open_id]
    again = await client.post(f"/api/admin/feedback/{done_id}/resolve", headers=ADMIN)
    assert again.status_code == 200


async def test_resolving_unknown_feedback_is_not_found(client):
    response = await client.post(f"/api/admin/feedback/{uuid.uuid4()}/resolve", headers=ADMIN)
    assert response.status_code == 404
    assert response.json()["error"] == "feedback_not_found"


async def test_the_feedback_page_has_a_form_that_posts_to_the_api(client):
    response = await client.get("/feedback")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<form id="feedback"' in page and 'id="message"' in page and 'id="contact"' in page
    assert '"/api/feedback"' in page and '<tessera-header' in page  # its links: the header


async def test_a_submission_sent_again_under_its_id_is_stored_once(client, settings):
    body = {"message": "The palette needs brown", "id": str(uuid.uuid4())}
    first = await client.post("/api/feedback", json=body)
    again = await client.post("/api/feedback", json=body)
    assert first.json() == again.json() == {"id": body["id"]}
    assert await stored_feedback(settings) == 1
    reused = await client.post("/api/feedback", json=body | {"message": "Something else"})
    assert (reused.status_code, reused.json()["error"]) == (409, "feedback_id_reused")
