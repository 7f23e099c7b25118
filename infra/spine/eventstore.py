"""The event store on PostgreSQL: the library's environment, built from settings, and the one-time
creation of schema and tables (workers start with CREATE_TABLE off)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from infra.settings import Settings, postgres_params


def application_env(settings: Settings, *, create_table: bool = False) -> dict[str, str]:
    if settings.database_url is None:
        raise RuntimeError("database_url is not set (the embedded PostgreSQL was not started?)")
    pg = postgres_params(settings.database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": pg.dbname,
        "POSTGRES_HOST": pg.host,
        "POSTGRES_PORT": str(pg.port),
        "POSTGRES_USER": pg.user,
        "POSTGRES_PASSWORD": pg.password,
        "POSTGRES_SCHEMA": settings.schema,
        # One connection opened at start, more on demand: a process of every role builds every
        # context's application, and four of them holding four connections each left room for
        # only a few processes under PostgreSQL's default of 100 connections.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "7",
        "POSTGRES_LOCK_TIMEOUT": "5",
        # How long a thread waits for a pooled connection. Each of the library's retries waits
        # this long again when the database is away, and a writer's callers wait for them all.
        "POSTGRES_CONNECT_TIMEOUT": "3",
        "CREATE_TABLE": "yes" if create_table else "no",
        "APPLICATION_RECORDER_TOPIC": "infra.spine.recorder:ColumnarApplicationRecorder",
    }


def ensure_schema(settings: Settings) -> None:
    """Create the schema the event store and read models live in; idempotent."""
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(settings.schema)))


def events_table(application_name: str) -> str:
    """The table (and LISTEN channel) the library gives an application's events."""
    return f"{application_name.lower()}_events"
