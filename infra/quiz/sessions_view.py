"""The sessions read model in PostgreSQL: each session's state, who takes part (for the image
rule), its players, every answer and how each task closed (for reports), and the sessions' half
of the image references; `SessionsReadModel` is what the projection runner drives."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import msgspec

from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.quiz.sessions import Op, SessionsProjection
from projections.recorded import Recorded

DDL = """
CREATE TABLE IF NOT EXISTS {s}.quiz_sessions (
    session_id uuid PRIMARY KEY,
    game_id uuid NOT NULL,
    host text NOT NULL,
    admins text[] NOT NULL,
    title text NOT NULL,
    invite_code text NOT NULL,
    task_count integer NOT NULL,
    tasks jsonb NOT NULL,
    phase text NOT NULL DEFAULT 'lobby',
    current integer NOT NULL DEFAULT -1,
    deadline_ms bigint NOT NULL DEFAULT 0,
    paused boolean NOT NULL DEFAULT false,
    started_at timestamptz NOT NULL,
    ended_at timestamptz
);
CREATE INDEX IF NOT EXISTS quiz_sessions_running ON {s}.quiz_sessions (phase)
    WHERE phase <> 'ended';
CREATE TABLE IF NOT EXISTS {s}.quiz_participants (
    session_id uuid NOT NULL,
    who text NOT NULL,
    PRIMARY KEY (who, session_id)
);
CREATE TABLE IF NOT EXISTS {s}.quiz_players (
    session_id uuid NOT NULL,
    player_id text NOT NULL,
    nickname text NOT NULL,
    joined_at timestamptz NOT NULL,
    kicked boolean NOT NULL DEFAULT false,
    PRIMARY KEY (session_id, player_id)
);
CREATE TABLE IF NOT EXISTS {s}.quiz_answers (
    session_id uuid NOT NULL,
    player_id text NOT NULL,
    task_index integer NOT NULL,
    answer jsonb NOT NULL,
    elapsed_ms integer NOT NULL,
    fraction double precision,
    points integer NOT NULL,
    bonus integer NOT NULL,
    answered_at timestamptz NOT NULL,
    PRIMARY KEY (session_id, task_index, player_id)
);
CREATE TABLE IF NOT EXISTS {s}.quiz_closed_tasks (
    session_id uuid NOT NULL,
    task_index integer NOT NULL,
    reason text NOT NULL,
    closed_at timestamptz NOT NULL,
    PRIMARY KEY (session_id, task_index)
);
"""

_SQL = {
    "session": "INSERT INTO {s}.quiz_sessions (session_id, game_id, host, admins, title, "
    "invite_code, task_count, tasks, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)"
    " ON CONFLICT DO NOTHING",
    "participant": "INSERT INTO {s}.quiz_participants (session_id, who) VALUES ($1, $2) "
    "ON CONFLICT DO NOTHING",
    "image_ref": "INSERT INTO {s}.quiz_image_refs (sha, kind, ref_id) VALUES ($1, 'session', $2)"
    " ON CONFLICT DO NOTHING",
    "player": "INSERT INTO {s}.quiz_players (session_id, player_id, nickname, joined_at) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    "kick": "UPDATE {s}.quiz_players SET kicked = true WHERE session_id = $1 AND player_id = $2",
    "phase": "UPDATE {s}.quiz_sessions SET phase = $2, current = $3, deadline_ms = $4, "
    "paused = false WHERE session_id = $1",
    "answer": "INSERT INTO {s}.quiz_answers (session_id, player_id, task_index, answer, "
    "elapsed_ms, fraction, points, bonus, answered_at) "
    "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    "closed": "WITH closed AS (INSERT INTO {s}.quiz_closed_tasks (session_id, task_index, reason, "
    "closed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING) "
    "UPDATE {s}.quiz_sessions SET phase = 'results', paused = false WHERE session_id = $1",
    "pause": "UPDATE {s}.quiz_sessions SET paused = $2 WHERE session_id = $1",
    "resume": "UPDATE {s}.quiz_sessions SET paused = false, deadline_ms = $2 "
    "WHERE session_id = $1",
    "ended": "WITH refs AS (UPDATE {s}.quiz_image_refs SET ended_at = $2 "
    "WHERE kind = 'session' AND ref_id = $1) "
    "UPDATE {s}.quiz_sessions SET phase = 'ended', paused = false, ended_at = $2 "
    "WHERE session_id = $1",
}


class RunningTask(NamedTuple):
    session_id: UUID
    task_index: int
    deadline_ms: int


class SessionRow(NamedTuple):
    session_id: UUID
    game_id: UUID
    host: str
    admins: list[str]
    title: str
    phase: str
    task_count: int
    tasks: list[dict[str, Any]]
    ended_at: datetime | None


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(DDL.format(s=quote_ident(schema)))


class SessionsView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)
        self._sql = {kind: sql.format(s=self._s) for kind, sql in _SQL.items()}

    async def running_tasks(self) -> list[RunningTask]:
        """Tasks running (not paused) as the view last saw them: the timers a node restarts."""
        records = await self._pool.fetch(
            f"SELECT session_id, current, deadline_ms FROM {self._s}.quiz_sessions "
            "WHERE phase = 'question' AND NOT paused"
        )
        return [RunningTask(*record) for record in records]

    async def find_session(self, session_id: UUID) -> SessionRow | None:
        record = await self._pool.fetchrow(
            f"SELECT session_id, game_id, host, admins, title, phase, task_count, tasks::text, "
            f"ended_at FROM {self._s}.quiz_sessions WHERE session_id = $1",
            session_id,
        )
        if record is None:
            return None
        values = list(record)
        values[3] = list(values[3])
        values[7] = msgspec.json.decode(values[7])
        return SessionRow(*values)

    async def report_rows(
        self, session_id: UUID
    ) -> tuple[list[asyncpg.Record], list[asyncpg.Record], dict[int, str]]:
        """The players, every answer and how each task closed."""
        async with self._pool.acquire() as conn:
            players = await conn.fetch(
                f"SELECT player_id, nickname, kicked FROM {self._s}.quiz_players "
                "WHERE session_id = $1 ORDER BY joined_at, player_id",
                session_id,
            )
            answers = await conn.fetch(
                f"SELECT player_id, task_index, answer::text, elapsed_ms, fraction, points, bonus "
                f"FROM {self._s}.quiz_answers WHERE session_id = $1 "
                "ORDER BY task_index, answered_at",
                session_id,
            )
            closed = await conn.fetch(
                f"SELECT task_index, reason FROM {self._s}.quiz_closed_tasks "
                "WHERE session_id = $1",
                session_id,
            )
        return players, answers, {record[0]: record[1] for record in closed}

    async def write(self, conn: asyncpg.Connection, ops: list[Op]) -> None:
        """In order; consecutive operations of a kind in one round trip."""
        for kind, group in itertools.groupby(ops, key=lambda op: op.kind):
            await conn.executemany(self._sql[kind], [op.args for op in group])

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            f"TRUNCATE {self._s}.quiz_sessions, {self._s}.quiz_participants, "
            f"{self._s}.quiz_players, {self._s}.quiz_answers, {self._s}.quiz_closed_tasks; "
            f"DELETE FROM {self._s}.quiz_image_refs WHERE kind = 'session'"
        )


class SessionsReadModel:
    name = "quiz_sessions"
    topics = SessionsProjection.topics

    def __init__(self, view: SessionsView) -> None:
        self.view = view
        self.projection = SessionsProjection()

    async def load(self) -> None:
        self.projection = SessionsProjection()

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        await self.load()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        ops = self.projection.collect()
        if ops:
            await self.view.write(conn, ops)
        return None
