"""The feedback read model in PostgreSQL, and the read model the projection runner drives."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.feedback.messages import FeedbackProjection, FeedbackResolved, FeedbackSubmitted
from projections.recorded import Recorded

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.feedback_views (
    feedback_id uuid PRIMARY KEY,
    message text NOT NULL,
    contact text,
    account_id text,
    canvas_id uuid,
    page text,
    user_agent text,
    submitted_at timestamptz NOT NULL,
    resolved_by text,
    resolved_at timestamptz,
    version bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_views_newest
    ON {s}.feedback_views (submitted_at DESC, feedback_id DESC);
"""


class FeedbackOut(msgspec.Struct):
    id: UUID
    message: str
    submitted_at: datetime
    contact: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    canvas_id: UUID | None = None
    page: str | None = None
    user_agent: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class FeedbackView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)

    async def write(
        self, conn: asyncpg.Connection, changes: list[FeedbackSubmitted | FeedbackResolved]
    ) -> None:
        for change in changes:
            match change:
                case FeedbackSubmitted():
                    await conn.execute(
                        f"INSERT INTO {self._s}.feedback_views (feedback_id, message, contact, "
                        "account_id, canvas_id, page, user_agent, submitted_at, version) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                        "ON CONFLICT (feedback_id) DO NOTHING",
                        change.feedback_id,
                        change.message,
                        change.contact,
                        change.account_id,
                        change.canvas_id,
                        change.page,
                        change.user_agent,
                        change.at,
                        change.version,
                    )
                case FeedbackResolved():
                    await conn.execute(
                        f"UPDATE {self._s}.feedback_views SET resolved_by = $2, "
                        "resolved_at = $3, version = $4 WHERE feedback_id = $1 AND version < $4",
                        change.feedback_id,
                        change.resolved_by,
                        change.at,
                        change.version,
                    )

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {self._s}.feedback_views")

    async def list_feedback(
        self, *, limit: int, before: UUID | None = None, unresolved: bool = False
    ) -> list[FeedbackOut]:
        """Newest first; `before` is the id of the last item of the previous page."""
        rows = await self._pool.fetch(
            f"""
            SELECT f.*, a.display_name AS account_name FROM {self._s}.feedback_views f
            LEFT JOIN {self._s}.account_views a ON a.account_id::text = f.account_id
            WHERE ($1::uuid IS NULL OR (f.submitted_at, f.feedback_id) < (
                SELECT submitted_at, feedback_id FROM {self._s}.feedback_views
                WHERE feedback_id = $1))
            AND (NOT $2 OR f.resolved_at IS NULL)
            ORDER BY f.submitted_at DESC, f.feedback_id DESC LIMIT $3
            """,
            before,
            unresolved,
            limit,
        )
        return [_out(row) for row in rows]


def _out(row: asyncpg.Record) -> FeedbackOut:
    return FeedbackOut(
        row["feedback_id"],
        row["message"],
        row["submitted_at"],
        row["contact"],
        row["account_id"],
        row["account_name"],
        row["canvas_id"],
        row["page"],
        row["user_agent"],
        row["resolved_by"],
        row["resolved_at"],
    )


class FeedbackReadModel:
    name = "feedback"
    topics = FeedbackProjection.topics

    def __init__(self, view: FeedbackView) -> None:
        self.view = view
        self.projection = FeedbackProjection()

    async def load(self) -> None:
        self.projection = FeedbackProjection()  # everything lives in the view

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        self.projection = FeedbackProjection()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        await self.view.write(conn, self.projection.collect())
        return None
