"""`GET /health` tells a load balancer or an operator whether every read model keeps up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from api.app import Node, build, create_app
from commands.feedback.wire import SubmitFeedback
from infra.settings import Settings
from tests.integration.conftest import stop, until

READ_MODELS = {
    "accounts", "bitmap", "pixel_owners", "history", "placement_stats", "feedback", "desks",
    "quiz_games", "quiz_sessions", "billiards_matches", "billiards_templates", "billiards_social",
    "billiards_outbox", "billiards_players",
}


def submitted(parts: Node, message: str):
    """Feedback stored through the Application, as no request could send it any more."""
    feedbacks = parts["feedback"].feedbacks
    return asyncio.to_thread(feedbacks.submit_feedback, SubmitFeedback(message=message))


async def health(parts: Node) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(parts.settings, node=parts))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        return await http.get("/health")


async def test_health_is_ok_and_counts_a_projections_dead_letters(parts: Node):
    await submitted(parts, "bad\u0000")
    later = await submitted(parts, "later")

    async def later_listed() -> bool:
        return [f.id for f in await parts["feedback"].view.list_feedback(limit=5)] == [later.id]

    await until(later_listed, timeout=30)
    response = await health(parts)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and set(body["projections"]) == READ_MODELS
    feedback = body["projections"]["feedback"]
    assert feedback == {
        "position": feedback["newest"],
        "newest": 2,
        "behind": 0,
        "far_behind": False,
        "stalled": False,
        "stalled_for_s": 0.0,
        "behind_for_s": 0.0,
        "dead_letters": 1,
    }


async def test_a_stalled_projection_far_behind_makes_health_503_degraded(
    make_settings: Callable[..., Awaitable[Settings]],
):
    settings = await make_settings(
        projection_max_tries=1_000_000, health_stalled_s=0.2, health_behind_events=2
    )
    parts = await build(settings)
    try:
        await submitted(parts, "bad\u0000")  # never set aside: the projection stops here
        await submitted(parts, "later")

        async def stalled() -> Any:
            response = await health(parts)
            feedback = response.json()["projections"]["feedback"]
            return feedback["stalled"] and response

        response = await until(stalled, timeout=30)
    finally:
        await stop(parts)
    body = response.json()
    feedback = body["projections"]["feedback"]
    assert (response.status_code, body["status"]) == (503, "degraded")
    assert (feedback["position"], feedback["behind"], feedback["far_behind"]) == (0, 2, True)
    assert feedback["stalled_for_s"] >= 0.2
    assert feedback["behind_for_s"] >= feedback["stalled_for_s"]
    assert all(
        state["stalled"] is False for name, state in body["projections"].items()
        if name != "feedback"
    )
