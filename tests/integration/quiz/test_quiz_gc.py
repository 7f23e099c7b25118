import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio

from api.app import Node, build, create_app
from tests.integration.conftest import stop, until
from tests.integration.quiz.images_helpers import png
from tests.integration.quiz.quiz_helpers import OWNER, a_game
from tests.integration.quiz.test_quiz_images import image_task, upload

ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}
GRACE_S = 1


@pytest_asyncio.fixture
async def settings(make_settings, tmp_path: Path):
    return await make_settings(
        quiz={"blob_dir": str(tmp_path / "images"), "gc_interval_s": 0,
              "image_grace_s": GRACE_S},
        rate_ip_per_s=0, rate_read_ip_per_s=0, identity={"rate_account_per_s": 0},
    )


@pytest_asyncio.fixture
async def http(parts: Node) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(parts.settings, node=parts))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
        yield client


async def projected(parts: Node, sha: str) -> None:
    s = parts.settings.schema

    async def known():
        return await parts.pool.fetchval(f'SELECT 1 FROM "{s}".quiz_images WHERE sha = $1', sha)

    await until(known)


async def deletions(parts: Node) -> int:
    return await parts.pool.fetchval(
        f'SELECT count(*) FROM "{parts.settings.schema}".quizzes_events '
        "WHERE topic = 'domain.quiz.image:QuizImage.Deleted'")


async def past_grace() -> None:
    await asyncio.sleep(GRACE_S + 0.2)


async def test_unreferenced_images_go_after_their_grace_and_referenced_ones_stay(
    http: httpx.AsyncClient, parts: Node
):
    loose = (await upload(http, png((1, 1, 1)))).json()["id"]
    used = (await upload(http, png((2, 2, 2)))).json()["id"]
    await a_game(http, tasks=[image_task(used)])
    await projected(parts, loose)
    early = await http.post("/api/quiz/images/gc", params={"dry_run": "true"}, headers=ADMIN)
    assert early.json()["images"] == []
    await past_grace()

    async def listed():
        dry = await http.post("/api/quiz/images/gc", params={"dry_run": "true"}, headers=ADMIN)
        return dry.json() if dry.json()["images"] else None

    assert (await listed())["images"] == [loose]
    assert await deletions(parts) == 0  # a dry run deletes nothing
    run = await http.post("/api/quiz/images/gc", headers=ADMIN)
    assert run.json()["images"] == [loose]
    assert await deletions(parts) == 1
    assert (await http.get(f"/api/quiz/images/{loose}", headers=OWNER)).status_code == 404
    assert (await http.get(f"/api/quiz/images/{used}", headers=OWNER)).status_code == 200
    blobs = parts["quiz"].blobs.store
    assert blobs.get(loose) is None and blobs.get(used) is not None
    not_admin = await http.post("/api/quiz/images/gc", headers=OWNER)
    assert not_admin.status_code == 403


async def test_an_image_referenced_while_the_collector_runs_survives(
    http: httpx.AsyncClient, parts: Node
):
    sha = (await upload(http, png((3, 3, 3)))).json()["id"]
    await projected(parts, sha)
    await past_grace()
    # The edit is saved, its projection not necessarily yet: the collector may still list the
    # image, and its aggregate (touched by the reference) refuses the deletion.
    game = await a_game(http, tasks=[])
    edit = http.post(f"/api/quiz/games/{game['id']}/tasks", json=image_task(sha), headers=OWNER)
    collected, edited = await asyncio.gather(parts["quiz"].images.collect(), edit)
    assert edited.status_code == 201 or edited.json()["error"] == "image_not_found"
    if edited.status_code == 201:
        assert sha not in collected["images"]
        assert parts["quiz"].blobs.store.get(sha) is not None
    else:  # the collector won: the edit was refused, nothing references a deleted image
        assert collected["images"] == [sha]


async def test_two_nodes_collecting_at_once_delete_each_image_once(settings, parts: Node):
    shas = []
    transport = httpx.ASGITransport(app=create_app(parts.settings, node=parts))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        for shade in range(3):
            shas.append((await upload(http, png((shade, 50, 50)))).json()["id"])
    for sha in shas:
        await projected(parts, sha)
    await past_grace()
    other = await build(settings, roles={"api"})
    try:
        runs = await asyncio.gather(parts["quiz"].images.collect(), other["quiz"].images.collect())
        deleted = [sha for run in runs for sha in run["images"]]
        assert sorted(deleted) == sorted(shas)
        assert await deletions(parts) == 3
    finally:
        await stop(other)
