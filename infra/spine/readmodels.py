"""Read-model tables, created once at start (by `tessera migrate` or `serve`), never by workers."""

from __future__ import annotations

import asyncpg

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.projection_positions (
    name text PRIMARY KEY,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.canvas_views (
    canvas_id uuid PRIMARY KEY,
    title text NOT NULL,
    width int NOT NULL,
    height int NOT NULL,
    palette text[] NOT NULL,
    cooldown_ms int NOT NULL,
    is_open boolean NOT NULL,
    season int NOT NULL,
    version bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- clock_timestamp(), not now(): canvases created in one batch still get distinct times, in order.
ALTER TABLE {s}.canvas_views
    ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT clock_timestamp();
CREATE TABLE IF NOT EXISTS {s}.canvas_snapshots (
    canvas_id uuid NOT NULL,
    version bigint NOT NULL,
    width int NOT NULL,
    height int NOT NULL,
    codec text NOT NULL,
    data bytea NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (canvas_id, version)
);
CREATE TABLE IF NOT EXISTS {s}.canvas_deltas (
    canvas_id uuid NOT NULL,
    from_version bigint NOT NULL,
    to_version bigint NOT NULL,
    kind smallint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (canvas_id, to_version)
);
"""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    await conn.execute(_DDL.format(s=quote_ident(schema)))


async def get_position(conn: asyncpg.Connection, schema: str, name: str) -> int:
    value = await conn.fetchval(
        f"SELECT position FROM {quote_ident(schema)}.projection_positions WHERE name = $1", name
    )
    return int(value or 0)


async def set_position(conn: asyncpg.Connection, schema: str, name: str, position: int) -> None:
    await conn.execute(
        f"INSERT INTO {quote_ident(schema)}.projection_positions (name, position) VALUES ($1, $2) "
        "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
        name,
        position,
    )
