"""The players read model in PostgreSQL: stats per player and game, head-to-head records, match
histories, ratings per board with their bucket counts, each match's rating changes, and the
ledger of followed matches. A batch's rows go in with a COPY a table, then all upserts at once."""

from __future__ import annotations

from typing import Any, NamedTuple
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

_STATS_COLUMNS = (
    "player", "kind", "name", "matches", "wins", "losses", "draws", "balls", "fouls", "turns",
    "best_run", "streak", "longest_streak", "last_match", "last_at",
)

_KEYS = {
    "billiards_players_ledger": "match_id uuid",
    "billiards_player_stats": "player text, kind text",
    "billiards_head_to_head": "player text, kind text, opponent text",
    "billiards_player_matches": "player text, match_id uuid",
    "billiards_ratings": "kind text, season text, player text",
    "billiards_rating_buckets": "kind text, season text, bucket int",
    "billiards_rating_changes": "match_id uuid, player text, season text",
}
"""Each table's primary key, with its columns' types."""
TABLES = tuple(_KEYS)

_ON_CONFLICT = {
    "billiards_players_ledger": "finished_seq = excluded.finished_seq, state = excluded.state",
    "billiards_player_stats": ", ".join(f"{c} = excluded.{c}" for c in _STATS_COLUMNS[2:]),
    "billiards_head_to_head": "name = excluded.name, matches = t.matches + excluded.matches, "
    "wins = t.wins + excluded.wins, losses = t.losses + excluded.losses, "
    "draws = t.draws + excluded.draws",
    "billiards_player_matches": "at = excluded.at, place = excluded.place, "
    "result = excluded.result, balls = excluded.balls, fouls = excluded.fouls, "
    "turns = excluded.turns, best_run = excluded.best_run, opponents = excluded.opponents",
    "billiards_ratings": "name = excluded.name, mu = excluded.mu, sigma = excluded.sigma, "
    "ordinal = excluded.ordinal, bucket = excluded.bucket, matches = excluded.matches, "
    "last_match = excluded.last_match",
    "billiards_rating_buckets": "n = t.n + excluded.n",
    "billiards_rating_changes": "at = excluded.at, mu_before = excluded.mu_before, "
    "sigma_before = excluded.sigma_before, mu = excluded.mu, sigma = excluded.sigma, "
    "matches = excluded.matches",
}
"""What a row already there becomes (`t`: it; `excluded`: the row written)."""


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class Rows(NamedTuple):
    gone: dict[str, list[tuple[Any, ...]]]
    """Per table, the keys of its rows to delete."""
    written: dict[str, list[Any]]
    """Per table, the rows to insert or update."""


def _staging(table: str) -> str:
    return f"{table}_in"


class PlayersWriter:
    """Writes a batch's changes (inside the runner's transaction). Each table's rows are COPYed
    into a temporary twin and go in with one INSERT … ON CONFLICT: asyncpg checks the type of
    every element of the arrays an `unnest` takes, and the rebuild's client spent more on that
    than on the rows' binary COPY."""

    def __init__(self, schema: str) -> None:
        self._s = quote_ident(schema)
        self._create_staging = "".join(
            f"CREATE TEMP TABLE IF NOT EXISTS {_staging(t)} (LIKE {self._s}.{t}) "
            "ON COMMIT DELETE ROWS;"
            for t in _KEYS
        )
        self._upserts = {
            t: f"INSERT INTO {self._s}.{t} AS t SELECT * FROM {_staging(t)} "
            f"ON CONFLICT ({_names(t)}) DO UPDATE SET {_ON_CONFLICT[t]}"
            for t in _KEYS
        }
        # A bucket a batch emptied goes: a rebuild in other batches never sees the buckets a
        # rating only passed through.
        self._upserts["billiards_rating_buckets"] += (
            f"; DELETE FROM {self._s}.billiards_rating_buckets b USING "
            f"{_staging('billiards_rating_buckets')} i WHERE b.n = 0 AND b.kind = i.kind "
            "AND b.season = i.season AND b.bucket = i.bucket"
        )

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute("TRUNCATE " + ", ".join(f"{self._s}.{t}" for t in TABLES))

    def prepare(self, c: PlayersChanges) -> Rows:
        """A batch's rows to delete and to write, each a tuple of values taken now: the books
        may go on changing while they are written."""
        gone: dict[str, list[tuple[Any, ...]]] = {
            "billiards_players_ledger": [(m,) for m in c.forgotten],
            "billiards_player_stats": [(p, k) for p, k, row in c.stats if row is None],
            "billiards_player_matches": [key for key, row in c.history.items() if row is None],
            "billiards_ratings": [key for key, rating, _ in c.ratings if rating is None],
            "billiards_rating_changes": [
                key for key, change in c.rating_changes.items() if change is None],
        }
        rows: dict[str, list[Any]] = {
            "billiards_players_ledger": c.matches,
            "billiards_player_stats": [
                (p, k, r.name, r.matches, r.wins, r.losses, r.draws, r.balls, r.fouls, r.turns,
                 r.best_run, r.streak, r.longest_streak, r.last_match, r.last_at)
                for p, k, r in c.stats if r is not None
            ],
            "billiards_head_to_head": [(*key, v[4], *v[:4]) for key, v in c.head_to_head.items()],
            "billiards_player_matches": [
                (r.player, r.match_id, r.kind, r.at, r.place, r.seats, r.result, r.balls,
                 r.fouls, r.turns, r.best_run, r.opponents)
                for r in c.history.values() if r is not None
            ],
            "billiards_ratings": [
                (*key, r.name, r.mu, r.sigma, r.ordinal, bucket, r.matches, r.last_match)
                for key, r, bucket in c.ratings if r is not None
            ],
            "billiards_rating_buckets": [(*key, n) for key, n in c.buckets.items()],
            "billiards_rating_changes": [
                (x.match_id, x.player, x.season, x.kind, x.at, x.mu_before, x.sigma_before,
                 x.mu, x.sigma, x.matches)
                for x in c.rating_changes.values() if x is not None
            ],
        }
        return Rows({t: keys for t, keys in gone.items() if keys},
                    {t: table_rows for t, table_rows in rows.items() if table_rows})

    async def write(self, conn: asyncpg.Connection, rows: Rows) -> None:
        await self._delete(conn, rows.gone)
        if not rows.written:
            return
        await self._stage(conn)
        for table, table_rows in rows.written.items():
            await conn.copy_records_to_table(_staging(table), records=table_rows)
        # One round trip for all the upserts (no parameters: a simple query may hold many).
        await conn.execute(";".join(self._upserts[table] for table in rows.written))

    async def _stage(self, conn: asyncpg.Connection) -> None:
        """Make the temporary twins, once a connection: asking costs a round trip, making them
        again if there (`IF NOT EXISTS`) 25 ms."""
        last = _staging(next(reversed(_KEYS)))  # made together with the others
        if not await conn.fetchval(f"SELECT to_regclass('pg_temp.{last}') IS NOT NULL"):
            await conn.execute(self._create_staging)

    async def _delete(self, conn: asyncpg.Connection, gone: dict[str, list[tuple[Any, ...]]]) -> None:
        """The rows an undo or the ledger's window took away (few: unnest is enough)."""
        for table, keys in gone.items():
            await conn.execute(
                f"DELETE FROM {self._s}.{table} WHERE ({_names(table)}) IN "
                f"(SELECT * FROM unnest({_arrays(table)}))",
                *_columns(keys),
            )


def _names(table: str) -> str:
    return ", ".join(column.split()[0] for column in _KEYS[table].split(", "))


def _arrays(table: str) -> str:
    """The key's columns as `unnest`'s parameters: `$1::text[], $2::uuid[]`."""
    types = [column.split()[1] for column in _KEYS[table].split(", ")]
    return ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, start=1))


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


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
