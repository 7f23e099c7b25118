"""The read models' schema, their positions and their dead letters (each context creates its own
tables in its migration, by `tessera migrate` or `serve`, never by workers)."""

from __future__ import annotations

import asyncpg

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.projection_positions (
    name text PRIMARY KEY,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.projection_dead_letters (
    projection text NOT NULL,
    notification_id bigint NOT NULL,
    topic text NOT NULL,
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    error text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now(),
    replay_requested_at timestamptz,
    replayed_at timestamptz,
    PRIMARY KEY (projection, notification_id)
);
"""
"""`projection_dead_letters`: the events a projection set aside (`infra.spine.dead_letters`)."""


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
