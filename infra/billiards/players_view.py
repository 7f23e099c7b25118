"""The players read model in PostgreSQL: stats per player and game, head-to-head records, match
histories, ratings per board with their bucket counts, each match's rating changes, and the
ledger of followed matches. Writes go in whole arrays (`unnest`), one statement a table."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from infra.spine.readmodels import quote_ident
from projections.billiards.players import PlayersChanges

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.billiards_player_stats (
    player text NOT NULL, kind text NOT NULL, name text NOT NULL,
    matches int NOT NULL, wins int NOT NULL, losses int NOT NULL, draws int NOT NULL,
    balls int NOT NULL, fouls int NOT NULL, turns int NOT NULL, best_run int NOT NULL,
    streak int NOT NULL, longest_streak int NOT NULL, last_match uuid, last_at timestamptz,
    PRIMARY KEY (player, kind)
);
CREATE TABLE IF NOT EXISTS {s}.billiards_head_to_head (
    player text NOT NULL, kind text NOT NULL, opponent text NOT NULL, name text NOT NULL,
    matches int NOT NULL, wins int NOT NULL, losses int NOT NULL, draws int NOT NULL,
    PRIMARY KEY (player, kind, opponent)
);
CREATE TABLE IF NOT EXISTS {s}.billiards_player_matches (
    player text NOT NULL, match_id uuid NOT NULL, kind text NOT NULL, at timestamptz NOT NULL,
    place int NOT NULL, seats int NOT NULL, result text NOT NULL, balls int NOT NULL,
    fouls int NOT NULL, turns int NOT NULL, best_run int NOT NULL, opponents text[] NOT NULL,
    PRIMARY KEY (player, match_id)
);
CREATE INDEX IF NOT EXISTS billiards_player_matches_at
    ON {s}.billiards_player_matches (player, at DESC, match_id);
CREATE TABLE IF NOT EXISTS {s}.billiards_ratings (
    kind text NOT NULL, season text NOT NULL, player text NOT NULL, name text NOT NULL,
    mu float8 NOT NULL, sigma float8 NOT NULL, ordinal float8 NOT NULL, bucket int NOT NULL,
    matches int NOT NULL, last_match uuid,
    PRIMARY KEY (kind, season, player)
);
CREATE INDEX IF NOT EXISTS billiards_ratings_board
    ON {s}.billiards_ratings (kind, season, bucket DESC, ordinal DESC, player);
CREATE TABLE IF NOT EXISTS {s}.billiards_rating_buckets (
    kind text NOT NULL, season text NOT NULL, bucket int NOT NULL, n int NOT NULL,
    PRIMARY KEY (kind, season, bucket)
);
CREATE TABLE IF NOT EXISTS {s}.billiards_rating_changes (
    match_id uuid NOT NULL, player text NOT NULL, season text NOT NULL, kind text NOT NULL,
    at timestamptz NOT NULL, mu_before float8 NOT NULL, sigma_before float8 NOT NULL,
    mu float8 NOT NULL, sigma float8 NOT NULL, matches int NOT NULL,
    PRIMARY KEY (match_id, player, season)
);
CREATE INDEX IF NOT EXISTS billiards_rating_changes_player
    ON {s}.billiards_rating_changes (player, kind, season, at);
CREATE TABLE IF NOT EXISTS {s}.billiards_players_ledger (
    match_id uuid PRIMARY KEY, finished_seq bigint, state bytea NOT NULL
);
"""

TABLES = (
    "billiards_player_stats", "billiards_head_to_head", "billiards_player_matches",
    "billiards_ratings", "billiards_rating_buckets", "billiards_rating_changes",
    "billiards_players_ledger",
)

_STATS_COLUMNS = (
    "player", "kind", "name", "matches", "wins", "losses", "draws", "balls", "fouls", "turns",
    "best_run", "streak", "longest_streak", "last_match", "last_at",
)
_STATS_TYPES = (
    "text", "text", "text", "int", "int", "int", "int", "int", "int", "int", "int", "int", "int",
    "uuid", "timestamptz",
)


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


def _unnest(types: tuple[str, ...]) -> str:
    return ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, start=1))


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


class PlayersWriter:
    """Writes a batch's changes (inside the runner's transaction)."""

    def __init__(self, schema: str) -> None:
        self._s = quote_ident(schema)

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute("TRUNCATE " + ", ".join(f"{self._s}.{t}" for t in TABLES))

    async def write(self, conn: asyncpg.Connection, c: PlayersChanges) -> None:
        s = self._s
        await self._ledger(conn, c)
        await self._stats(conn, c)
        if c.head_to_head:
            rows = [(*key, v[4], *v[:4]) for key, v in c.head_to_head.items()]
            await conn.execute(
                f"INSERT INTO {s}.billiards_head_to_head AS h SELECT * FROM unnest("
                + _unnest(("text", "text", "text", "text", "int", "int", "int", "int"))
                + ") ON CONFLICT (player, kind, opponent) DO UPDATE SET name = excluded.name, "
                "matches = h.matches + excluded.matches, wins = h.wins + excluded.wins, "
                "losses = h.losses + excluded.losses, draws = h.draws + excluded.draws",
                *_columns(rows, 8),
            )
        gone = [key for key, row in c.history.items() if row is None]
        if gone:
            await conn.execute(
                f"DELETE FROM {s}.billiards_player_matches WHERE (player, match_id) IN "
                "(SELECT * FROM unnest($1::text[], $2::uuid[]))",
                *_columns(gone, 2),
            )
        history = [
            (r.player, r.match_id, r.kind, r.at, r.place, r.seats, r.result, r.balls, r.fouls,
             r.turns, r.best_run, "{" + ",".join(_quoted(o) for o in r.opponents) + "}")
            for r in c.history.values() if r is not None
        ]
        if history:
            await conn.execute(
                f"INSERT INTO {s}.billiards_player_matches SELECT p, m, k, a, pl, se, re, b, f, "
                "t, br, o::text[] FROM unnest("
                + _unnest(("text", "uuid", "text", "timestamptz", "int", "int", "text", "int",
                           "int", "int", "int", "text"))
                + ") AS x(p, m, k, a, pl, se, re, b, f, t, br, o) ON CONFLICT (player, match_id) "
                "DO UPDATE SET at = excluded.at, place = excluded.place, result = excluded.result,"
                " balls = excluded.balls, fouls = excluded.fouls, turns = excluded.turns, "
                "best_run = excluded.best_run, opponents = excluded.opponents",
                *_columns(history, 12),
            )
        await self._ratings(conn, c)

    async def _ledger(self, conn: asyncpg.Connection, c: PlayersChanges) -> None:
        s = self._s
        if c.forgotten:
            await conn.execute(
                f"DELETE FROM {s}.billiards_players_ledger WHERE match_id = ANY($1::uuid[])",
                c.forgotten,
            )
        if c.matches:
            await conn.execute(
                f"INSERT INTO {s}.billiards_players_ledger SELECT * FROM unnest("
                "$1::uuid[], $2::bigint[], $3::bytea[]) ON CONFLICT (match_id) DO UPDATE SET "
                "finished_seq = excluded.finished_seq, state = excluded.state",
                *_columns(c.matches, 3),
            )

    async def _stats(self, conn: asyncpg.Connection, c: PlayersChanges) -> None:
        s = self._s
        gone = [(p, k) for p, k, row in c.stats if row is None]
        if gone:
            await conn.execute(
                f"DELETE FROM {s}.billiards_player_stats WHERE (player, kind) IN "
                "(SELECT * FROM unnest($1::text[], $2::text[]))",
                *_columns(gone, 2),
            )
        rows = [
            (p, k, r.name, r.matches, r.wins, r.losses, r.draws, r.balls, r.fouls, r.turns,
             r.best_run, r.streak, r.longest_streak, r.last_match, r.last_at)
            for p, k, r in c.stats if r is not None
        ]
        if rows:
            update = ", ".join(f"{col} = excluded.{col}" for col in _STATS_COLUMNS[2:])
            await conn.execute(
                f"INSERT INTO {s}.billiards_player_stats SELECT * FROM unnest("
                + _unnest(_STATS_TYPES) + f") ON CONFLICT (player, kind) DO UPDATE SET {update}",
                *_columns(rows, len(_STATS_COLUMNS)),
            )

    async def _ratings(self, conn: asyncpg.Connection, c: PlayersChanges) -> None:
        s = self._s
        gone = [key for key, rating, _ in c.ratings if rating is None]
        if gone:
            await conn.execute(
                f"DELETE FROM {s}.billiards_ratings WHERE (kind, season, player) IN "
                "(SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))",
                *_columns(gone, 3),
            )
        rows = [
            (*key, r.name, r.mu, r.sigma, r.ordinal, bucket, r.matches, r.last_match)
            for key, r, bucket in c.ratings if r is not None
        ]
        if rows:
            await conn.execute(
                f"INSERT INTO {s}.billiards_ratings SELECT * FROM unnest("
                + _unnest(("text", "text", "text", "text", "float8", "float8", "float8", "int",
                           "int", "uuid"))
                + ") ON CONFLICT (kind, season, player) DO UPDATE SET name = excluded.name, "
                "mu = excluded.mu, sigma = excluded.sigma, ordinal = excluded.ordinal, "
                "bucket = excluded.bucket, matches = excluded.matches, "
                "last_match = excluded.last_match",
                *_columns(rows, 10),
            )
        if c.buckets:
            counts = [(*key, n) for key, n in c.buckets.items()]
            await conn.execute(
                f"INSERT INTO {s}.billiards_rating_buckets AS b SELECT * FROM unnest("
                "$1::text[], $2::text[], $3::int[], $4::int[]) ON CONFLICT (kind, season, bucket) "
                "DO UPDATE SET n = b.n + excluded.n",
                *_columns(counts, 4),
            )
            # A bucket emptied (a match undone, a rating moved on) goes, as a rebuild never
            # writes it: whether it was ever written depended on how the events were batched.
            await conn.execute(
                f"DELETE FROM {s}.billiards_rating_buckets WHERE n = 0 AND (kind, season, bucket)"
                " IN (SELECT * FROM unnest($1::text[], $2::text[], $3::int[]))",
                *_columns(list(c.buckets), 3),
            )
        await self._changes(conn, c)

    async def _changes(self, conn: asyncpg.Connection, c: PlayersChanges) -> None:
        s = self._s
        gone = [key for key, change in c.rating_changes.items() if change is None]
        if gone:
            await conn.execute(
                f"DELETE FROM {s}.billiards_rating_changes WHERE (match_id, player, season) IN "
                "(SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]))",
                *_columns(gone, 3),
            )
        rows = [
            (x.match_id, x.player, x.season, x.kind, x.at, x.mu_before, x.sigma_before, x.mu,
             x.sigma, x.matches)
            for x in c.rating_changes.values() if x is not None
        ]
        if rows:
            await conn.execute(
                f"INSERT INTO {s}.billiards_rating_changes SELECT * FROM unnest("
                + _unnest(("uuid", "text", "text", "text", "timestamptz", "float8", "float8",
                           "float8", "float8", "int"))
                + ") ON CONFLICT (match_id, player, season) DO UPDATE SET at = excluded.at, "
                "mu_before = excluded.mu_before, sigma_before = excluded.sigma_before, "
                "mu = excluded.mu, sigma = excluded.sigma, matches = excluded.matches",
                *_columns(rows, 10),
            )


def _quoted(text: str) -> str:
    """An element of a PostgreSQL array literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def load_rows(
    conn: asyncpg.Connection, schema: str
) -> tuple[list[asyncpg.Record], list[asyncpg.Record], list[tuple[UUID, int | None, bytes]]]:
    """Stats, ratings and the ledger, for a projection to start from."""
    s = quote_ident(schema)
    stats = await conn.fetch(
        f"SELECT {', '.join(_STATS_COLUMNS)} FROM {s}.billiards_player_stats"
    )
    ratings = await conn.fetch(
        f"SELECT kind, season, player, name, mu, sigma, matches, last_match, bucket "
        f"FROM {s}.billiards_ratings"
    )
    ledger = await conn.fetch(f"SELECT match_id, finished_seq, state FROM {s}.billiards_players_ledger")
    return stats, ratings, [(r[0], r[1], bytes(r[2])) for r in ledger]
