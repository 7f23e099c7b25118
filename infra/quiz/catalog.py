"""The games read model (lists and pages), the images table and the image references of games,
in PostgreSQL; `GamesReadModel` is what the projection runner drives."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.quiz.games import GameRow, GamesProjection, fold_game, game_images
from projections.recorded import Recorded

DDL = """
CREATE TABLE IF NOT EXISTS {s}.quiz_games (
    game_id uuid PRIMARY KEY,
    owner text NOT NULL,
    admins text[] NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    cover text,
    public boolean NOT NULL,
    scoring jsonb NOT NULL,
    tasks jsonb NOT NULL,
    task_count integer NOT NULL,
    copied_from uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS quiz_games_owner ON {s}.quiz_games (owner, updated_at DESC);
CREATE INDEX IF NOT EXISTS quiz_games_public ON {s}.quiz_games (updated_at DESC) WHERE public;
CREATE TABLE IF NOT EXISTS {s}.quiz_image_refs (
    sha text NOT NULL,
    kind text NOT NULL,
    ref_id uuid NOT NULL,
    public boolean NOT NULL DEFAULT false,
    ended_at timestamptz,
    PRIMARY KEY (sha, kind, ref_id)
);
CREATE INDEX IF NOT EXISTS quiz_image_refs_ref ON {s}.quiz_image_refs (ref_id);
CREATE TABLE IF NOT EXISTS {s}.quiz_images (
    sha text PRIMARY KEY,
    image_id uuid NOT NULL UNIQUE,
    content_type text NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    size integer NOT NULL,
    uploader text NOT NULL,
    touched_at timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false
);
"""

_json = msgspec.json.Encoder()


class GameOut(msgspec.Struct):
    id: UUID
    owner: str
    admins: list[str]
    title: str
    description: str
    cover: str | None
    public: bool
    scoring: dict[str, Any]
    tasks: list[dict[str, Any]]
    copied_from: UUID | None
    updated_at: datetime


class GameSummary(msgspec.Struct):
    id: UUID
    owner: str
    title: str
    description: str
    cover: str | None
    public: bool
    tasks: int
    updated_at: datetime


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(DDL.format(s=quote_ident(schema)))


_COLUMNS = (
    "game_id, owner, admins, title, description, cover, public, scoring::text, tasks::text, "
    "copied_from, created_at, updated_at"
)


def _row(record: asyncpg.Record) -> GameRow:
    return {
        "game_id": record[0], "owner": record[1], "admins": list(record[2]), "title": record[3],
        "description": record[4], "cover": record[5], "public": record[6],
        "scoring": msgspec.json.decode(record[7]), "tasks": msgspec.json.decode(record[8]),
        "copied_from": record[9], "created_at": record[10], "updated_at": record[11],
        "deleted": False,
    }


def game_out(row: GameRow) -> GameOut:
    return GameOut(
        row["game_id"], row["owner"], row["admins"], row["title"], row["description"],
        row["cover"], row["public"], row["scoring"], row["tasks"], row["copied_from"],
        row["updated_at"],
    )


class GamesView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)

    async def find_game(self, game_id: UUID) -> GameOut | None:
        record = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM {self._s}.quiz_games WHERE game_id = $1", game_id
        )
        return None if record is None else game_out(_row(record))

    async def list_games(self, *, user: str | None, mine: bool, limit: int) -> list[GameSummary]:
        """Public games, or (`mine`) those the user owns or administers; newest first."""
        where = "(owner = $2 OR $2 = ANY(admins))" if mine else "public AND $2::text IS NULL"
        records = await self._pool.fetch(
            f"SELECT game_id, owner, title, description, cover, public, task_count, updated_at "
            f"FROM {self._s}.quiz_games WHERE {where} ORDER BY updated_at DESC LIMIT $1",
            limit,
            user if mine else None,
        )
        return [GameSummary(*record) for record in records]

    # -- the projection's writes ------------------------------------------------------------------

    async def rows(self, conn: asyncpg.Connection, game_ids: list[UUID]) -> dict[UUID, GameRow]:
        records = await conn.fetch(
            f"SELECT {_COLUMNS} FROM {self._s}.quiz_games WHERE game_id = ANY($1)", game_ids
        )
        return {record[0]: _row(record) for record in records}

    async def write_game(self, conn: asyncpg.Connection, row: GameRow) -> None:
        game_id = row["game_id"]
        if row["deleted"]:
            await conn.execute(f"DELETE FROM {self._s}.quiz_games WHERE game_id = $1", game_id)
        else:
            await conn.execute(
                f"INSERT INTO {self._s}.quiz_games ({_COLUMNS.replace('::text', '')}, task_count) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13) "
                "ON CONFLICT (game_id) DO UPDATE SET admins = excluded.admins, "
                "title = excluded.title, description = excluded.description, "
                "cover = excluded.cover, public = excluded.public, scoring = excluded.scoring, "
                "tasks = excluded.tasks, task_count = excluded.task_count, "
                "updated_at = excluded.updated_at",
                game_id, row["owner"], row["admins"], row["title"], row["description"],
                row["cover"], row["public"], _json.encode(row["scoring"]).decode(),
                _json.encode(row["tasks"]).decode(), row["copied_from"], row["created_at"],
                row["updated_at"], len(row["tasks"]),
            )
        await conn.execute(
            f"DELETE FROM {self._s}.quiz_image_refs WHERE kind = 'game' AND ref_id = $1", game_id
        )
        if not row["deleted"]:
            await conn.executemany(
                f"INSERT INTO {self._s}.quiz_image_refs (sha, kind, ref_id, public) "
                "VALUES ($1, 'game', $2, $3)",
                [(sha, game_id, row["public"]) for sha in sorted(game_images(row))],
            )

    async def write_image(
        self, conn: asyncpg.Connection, what: str, image_id: UUID, state: dict[str, Any]
    ) -> None:
        at = state["timestamp"]
        if what == "Uploaded":
            await conn.execute(
                f"INSERT INTO {self._s}.quiz_images (sha, image_id, content_type, width, height, "
                "size, uploader, touched_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (sha) DO UPDATE SET touched_at = excluded.touched_at, "
                "deleted = false",
                state["sha"], image_id, state["content_type"], state["width"],
                state["height"], state["size"], state["uploader"], at,
            )
            return
        await conn.execute(
            f"UPDATE {self._s}.quiz_images SET touched_at = $2, deleted = $3 "
            "WHERE image_id = $1",
            image_id, at, what == "Deleted",
        )

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            f"TRUNCATE {self._s}.quiz_games, {self._s}.quiz_images; "
            f"DELETE FROM {self._s}.quiz_image_refs WHERE kind = 'game'"
        )


class GamesReadModel:
    name = "quiz_games"
    topics = GamesProjection.topics

    def __init__(self, view: GamesView) -> None:
        self.view = view
        self.projection = GamesProjection()

    async def load(self) -> None:
        self.projection = GamesProjection()

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        await self.load()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        games, images = self.projection.collect()
        if games:
            rows = await self.view.rows(conn, list({event.originator_id for event in games}))
            touched: dict[UUID, GameRow] = {}
            for event in games:
                folded = fold_game(rows.get(event.originator_id), event)
                if folded is not None:
                    rows[event.originator_id] = folded
                    touched[event.originator_id] = folded
            for row in touched.values():
                await self.view.write_game(conn, row)
        for what, image_id, state in images:
            await self.view.write_image(conn, what, image_id, state)
        return None
