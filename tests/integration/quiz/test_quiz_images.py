import asyncio
import io

import httpx
from PIL import Image

from api.app import Node
from tests.integration.conftest import until
from tests.integration.quiz.images_helpers import jpeg_with_exif, png, png_bomb
from tests.integration.quiz.quiz_helpers import OWNER, a_game, a_session, join

EVE = {"X-Dev-User": "eve"}


async def upload(http: httpx.AsyncClient, data: bytes, headers=OWNER) -> httpx.Response:
    return await http.put("/api/quiz/images", content=data,
                          headers={**headers, "Content-Type": "application/octet-stream"})


def image_task(sha: str) -> dict:
    return {"kind": "true_false", "text": "Is it red?", "image": sha,
            "options": [{"text": "True", "correct": True}, {"text": "False"}]}


async def visible(http: httpx.AsyncClient, sha: str, headers: dict) -> httpx.Response:
    async def seen():
        response = await http.get(f"/api/quiz/images/{sha}", headers=headers)
        return response if response.status_code == 200 else None

    return await until(seen)


async def test_an_upload_is_checked_reencoded_and_stripped_of_its_metadata(client: httpx.AsyncClient):
    response = await upload(client, jpeg_with_exif())
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 10, 10)
    got = await visible(client, body["id"], OWNER)
    assert "exif" not in Image.open(io.BytesIO(got.content)).info
    texty = (await upload(client, png(text="secret"))).json()
    got = await visible(client, texty["id"], OWNER)
    assert "Comment" not in Image.open(io.BytesIO(got.content)).info


async def test_a_private_image_is_seen_by_the_sessions_participants_only(
    client: httpx.AsyncClient, parts: Node
):
    sha = (await upload(client, png())).json()["id"]
    game = await a_game(client, tasks=[image_task(sha)])
    session = await a_session(client, game["id"])
    ann = await join(client, session["code"], "Ann")
    got = await visible(client, sha, {"X-Quiz-Player": ann["token"]})
    assert got.headers["cache-control"] == "private, max-age=3600"
    assert got.headers["etag"] == f'"{sha}"'
    again = await client.get(f"/api/quiz/images/{sha}",
                             headers={"X-Quiz-Player": ann["token"], "If-None-Match": f'"{sha}"'})
    assert again.status_code == 304
    for stranger in (EVE, {"X-Quiz-Player": "not-a-token"}, {}):
        denied = await client.get(f"/api/quiz/images/{sha}", headers=stranger)
        assert (denied.status_code, denied.json()["error"]) == (404, "image_not_found")
    missing = await client.get(f"/api/quiz/images/{'0' * 64}", headers=OWNER)
    assert missing.status_code == 404


async def test_a_public_games_image_is_seen_by_anyone_and_cached_for_good(
    client: httpx.AsyncClient,
):
    sha = (await upload(client, png((1, 2, 3)))).json()["id"]
    await a_game(client, tasks=[image_task(sha)], public=True)
    got = await visible(client, sha, {})
    assert got.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_the_reference_read_model_lists_the_games_and_sessions_using_an_image(
    client: httpx.AsyncClient, parts: Node
):
    sha = (await upload(client, png((9, 9, 9)))).json()["id"]
    game = await a_game(client, tasks=[image_task(sha)])
    session = await a_session(client, game["id"])
    s = parts.settings.schema

    async def refs():
        rows = await parts.pool.fetch(
            f'SELECT kind, ref_id::text FROM "{s}".quiz_image_refs WHERE sha = $1 ORDER BY kind',
            sha)
        return rows if len(rows) == 2 else None

    rows = await until(refs)
    assert [tuple(r) for r in rows] == [("game", game["id"]), ("session", session["session_id"])]


async def test_bad_images_are_refused_and_store_nothing(client: httpx.AsyncClient, parts: Node):
    not_image = await upload(client, b"GIF89a but not really an image at all")
    assert (not_image.status_code, not_image.json()["error"]) == (422, "invalid_image")
    bomb = await upload(client, png_bomb())
    assert (bomb.status_code, bomb.json()["error"]) == (413, "image_too_large")
    big = await upload(client, b"\x89PNG" + b"\0" * (5 * 1024 * 1024))
    assert (big.status_code, big.json()["error"]) == (413, "image_too_large")
    huge_side = await upload(client, png(size=(4097, 1)))
    assert (huge_side.status_code, huge_side.json()["error"]) == (413, "image_too_large")
    anonymous = await client.put("/api/quiz/images", content=png(),
                                 headers={"Content-Type": "image/png"})
    assert anonymous.status_code == 401
    events = await parts.pool.fetchval(
        f'SELECT count(*) FROM "{parts.settings.schema}".quizzes_events')
    assert events == 0


async def test_a_game_cannot_use_an_image_that_was_never_uploaded(client: httpx.AsyncClient):
    response = await client.post("/api/quiz/games", json={
        "title": "x", "tasks": [image_task("f" * 64)]}, headers=OWNER)
    assert (response.status_code, response.json()["error"]) == (422, "image_not_found")
    await asyncio.sleep(0)
