"""A projection survives an event it can never apply: after a few tries it sets the event aside
as a dead letter and goes on; once the read model is fixed, the dead letter is replayed."""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg

from api.app import Node
from commands.canvas.wire import CreateCanvas
from commands.feedback.wire import SubmitFeedback
from infra.settings import Settings
from tests.integration.conftest import until

PALETTE = ["#ffffff", "#000000"]


async def notification_of(settings: Settings, table: str, originator: UUID) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetchval(
            f'SELECT min(notification_id) FROM "{settings.schema}".{table} '
            "WHERE originator_id = $1",
            originator,
        )
    finally:
        await conn.close()


async def dead_letters(settings: Settings) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetch(
            f'SELECT * FROM "{settings.schema}".projection_dead_letters ORDER BY notification_id'
        )
    finally:
        await conn.close()


def submitted(parts: Node, message: str):
    """Feedback stored through the Application, as no request could send it any more."""
    feedbacks = parts["feedback"].feedbacks
    return asyncio.to_thread(feedbacks.submit_feedback, SubmitFeedback(message=message))


async def test_a_feedback_with_a_nul_is_set_aside_and_later_feedback_still_arrives(
    parts: Node, settings: Settings
):
    poison = await submitted(parts, "the zoom\u0000 jumps")
    later = await submitted(parts, "the palette needs brown")

    async def later_listed() -> bool:
        listed = await parts["feedback"].view.list_feedback(limit=10)
        return [item.id for item in listed] == [later.id]

    await until(later_listed, timeout=30)
    [letter] = await dead_letters(settings)
    assert (letter["projection"], letter["notification_id"], letter["topic"]) == (
        "feedback",
        await notification_of(settings, "feedbacks_events", poison.id),
        "domain.feedback:Feedback.Submitted",
    )
    assert letter["originator_id"] == poison.id and letter["originator_version"] == 1
    assert "CharacterNotInRepertoireError" in letter["error"] and letter["replayed_at"] is None
    assert parts.runner("feedback").dead_letters == 1


async def test_a_canvas_whose_bitmap_cannot_be_written_does_not_stop_the_next(
    parts: Node, settings: Settings
):
    canvases = parts["canvas"].canvases
    poison = await asyncio.to_thread(
        canvases.create_canvas, CreateCanvas(width=4, height=4, palette=PALETTE, title="a\u0000")
    )
    later = await asyncio.to_thread(
        canvases.create_canvas, CreateCanvas(width=4, height=4, palette=PALETTE, title="spring")
    )

    async def later_known() -> bool:
        return await parts["canvas"].reads.view.find_canvas(later.id) is not None

    await until(later_known, timeout=30)
    assert await parts["canvas"].reads.view.find_canvas(poison.id) is None
    assert [(letter["projection"], letter["originator_id"]) for letter in await dead_letters(
        settings)] == [("bitmap", poison.id)]
