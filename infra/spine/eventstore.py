"""The event store on PostgreSQL: the library's environment, built from settings, and the one-time
creation of schema and tables (workers start with CREATE_TABLE off)."""

from __future__ import annotations

import psycopg
from eventsourcing.persistence import Environment, EnvType
from eventsourcing.postgres import PostgresFactory
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infra.settings import Settings

LIBPQ_PARAMS = "TESSERA_LIBPQ_PARAMS"
"""The database URL's connection parameters the library has no environment key for."""


class UrlPostgresFactory(PostgresFactory):
    """The library's factory, whose pool also gets the URL's other connection parameters.

    The library's environment has keys for dbname, host, port, user and password only (its
    `POSTGRES_CONNECT_TIMEOUT` is how long a thread waits for a pooled connection, not libpq's
    `connect_timeout`), so `sslmode`, `options`, `connect_timeout`, `application_name`, … travel
    under `LIBPQ_PARAMS` and join the pool's connection arguments here, before the pool opens
    (on its first use)."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        params = conninfo_to_dict(self.env.get(LIBPQ_PARAMS) or "")
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict), "the library passes its connection arguments as a dict"
        kwargs.update(params)


def application_env(settings: Settings, *, create_table: bool = False) -> dict[str, str]:
    if settings.database_url is None:
        raise RuntimeError("database_url is not set (the embedded PostgreSQL was not started?)")
    # libpq reads the URL (or key=value string) as asyncpg and `psycopg.connect` do: percent
    # escapes, `?host=/socket/dir`, query options. A part the URL leaves out is passed empty,
    # which libpq takes as its default (PGHOST, PGUSER, … or the Unix socket); the library
    # itself fills an empty port with 5432.
    params = conninfo_to_dict(settings.database_url)
    return {
        "PERSISTENCE_MODULE": f"{__name__}:{UrlPostgresFactory.__name__}",
        "POSTGRES_DBNAME": str(params.pop("dbname", "")),
        "POSTGRES_HOST": str(params.pop("host", "")),
        "POSTGRES_PORT": str(params.pop("port", "")),
        "POSTGRES_USER": str(params.pop("user", "")),
        "POSTGRES_PASSWORD": str(params.pop("password", "")),
        LIBPQ_PARAMS: make_conninfo("", **params),
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
