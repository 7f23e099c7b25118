"""A projection survives an event it can never apply: after a few tries it sets the event aside
as a dead letter and goes on; once the read model is fixed, the dead letter is replayed."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from uuid import UUID

import asyncpg

from api.app import Node, build
from commands.canvas.wire import CreateCanvas
from commands.feedback.feedbacks import Feedbacks
from commands.feedback.wire import SubmitFeedback
from infra.settings import Settings
from infra.spine.eventstore import events_table
from infra.spine.read_model import AfterCommit
from infra.spine.runner import ProjectionRunner
from infra.spine.store_reader import StoreReader
from projections.feedback.messages import FeedbackProjection, FeedbackSubmitted
from projections.recorded import Recorded
from tests.integration.conftest import stop, until

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


async def test_projections_that_start_with_a_poison_event_in_the_store_still_start(
    settings: Settings,
):
    api = await build(settings, {"api"})  # no projection runs while the events are stored
    try:
        poison = await submitted(api, "stored\u0000 while the projector was down")
        later = await submitted(api, "later")
    finally:
        await stop(api)
    projector = await build(settings, {"projections"})
    try:
        async def later_listed() -> bool:
            view = projector.runner("feedback").model.view  # type: ignore[attr-defined]
            return [item.id for item in await view.list_feedback(limit=10)] == [later.id]

        await until(later_listed, timeout=30)
    finally:
        await stop(projector)
    assert [letter["originator_id"] for letter in await dead_letters(settings)] == [poison.id]


class Notes:
    """A read model of the test's own: each feedback message in a table. Setting `fixed` is the
    fix deployed between the failure and the replay: a NUL is written as U+2400 (␀)."""

    name = "notes"
    topics = FeedbackProjection.topics

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool, self.table = pool, f'"{schema}".notes'
        self.projection = FeedbackProjection()
        self.fixed = False

    async def migrate(self) -> None:
        await self.pool.execute(
            f"CREATE TABLE {self.table} (feedback_id uuid PRIMARY KEY, message text NOT NULL)"
        )

    async def load(self) -> None:
        self.projection = FeedbackProjection()

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {self.table}")

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        for change in self.projection.collect():
            if isinstance(change, FeedbackSubmitted):
                message = change.message.replace("\0", "\u2400") if self.fixed else change.message
                await conn.execute(f"INSERT INTO {self.table} VALUES ($1, $2)",
                                   change.feedback_id, message)
        return None

    async def rows(self) -> dict[UUID, str]:
        return dict(await self.pool.fetch(f"SELECT feedback_id, message FROM {self.table}"))


def a_runner(parts: Node, settings: Settings, model: Notes) -> ProjectionRunner:
    return ProjectionRunner(
        model,
        pool=parts.pool,
        js=parts.nc.jetstream(),
        store=StoreReader(parts.pool, settings.schema, events_table(Feedbacks.name)),
        schema=settings.schema,
        stream=settings.events_stream,
        subject=f"{settings.stream_prefix}.ev.feedback.>",
        consumer=f"{settings.stream_prefix}_{model.name}",
    )


async def tessera(settings: Settings, data_dir: Path, *args: str) -> tuple[int, str]:
    """The `tessera` command, as an operator runs it, against the test's schema."""
    env = os.environ | {
        "DATABASE_URL": settings.database_url or "",
        "NATS_URL": settings.nats_url or "",
        "TESSERA_SCHEMA": settings.schema,
        "TESSERA_STREAM_PREFIX": settings.stream_prefix,
        "TESSERA_DATA_DIR": str(data_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", *args, env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode()


async def test_a_dead_letter_stays_while_its_replay_fails_and_is_replayed_once_fixed(
    parts: Node, settings: Settings, tmp_path: Path
):
    notes = Notes(parts.pool, settings.schema)
    await notes.migrate()
    runner = a_runner(parts, settings, notes)
    await runner.start()
    try:
        poison = await submitted(parts, "a\u0000b")
        later = await submitted(parts, "later")
        await until(lambda: _holds(notes, {later.id: "later"}), timeout=30)
        poison_id = await notification_of(settings, "feedbacks_events", poison.id)

        listed, out = await tessera(settings, tmp_path, "dead-letters", "--projection", "notes")
        assert listed == 0 and f"notes #{poison_id} domain.feedback:Feedback.Submitted" in out

        unfixed, out = await tessera(
            settings, tmp_path, "dead-letters", "--replay", "--projection", "notes"
        )
        assert unfixed == 1 and f"notes #{poison_id}: still failing" in out, out
        assert "CharacterNotInRepertoireError" in out
        assert await notes.rows() == {later.id: "later"}

        notes.fixed = True
        fixed, out = await tessera(
            settings, tmp_path, "dead-letters", "--replay", "--projection", "notes"
        )
        assert fixed == 0 and f"notes #{poison_id}: replayed" in out, out
        assert await notes.rows() == {poison.id: "a\u2400b", later.id: "later"}
        waiting, out = await tessera(settings, tmp_path, "dead-letters", "--projection", "notes")
        assert waiting == 0 and f"#{poison_id}" not in out
    finally:
        await runner.stop()


async def _holds(notes: Notes, rows: dict[UUID, str]) -> bool:
    return await notes.rows() == rows
