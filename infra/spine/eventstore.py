"""The event store on PostgreSQL: the library's environment, built from settings, and the one-time
creation of schema and tables (workers start with CREATE_TABLE off)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from eventsourcing.persistence import Environment, EnvType, InterfaceError, OperationalError
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infra.settings import Settings
from infra.spine.outage import Outage
from infra.spine.recorder import SnapshotRecorder

LIBPQ_PARAMS = "TESSERA_LIBPQ_PARAMS"
"""The database URL's connection parameters the library has no environment key for."""
STORE_TIMEOUT_S = "TESSERA_STORE_TIMEOUT_S"
"""`Settings.store_timeout_ms`, in seconds (see `UrlPostgresFactory`)."""


class GuardedDatastore(PostgresDatastore):
    """The library's datastore, whose connections are refused at once while its `outage` is on,
    and whose failures to connect (or connections that broke) turn the outage on."""

    outage: Outage

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        self.outage.check()
        try:
            with super().get_connection() as conn:
                yield conn
        except (OperationalError, InterfaceError) as error:
            self.outage.failed(error)
            raise

    def close(self) -> None:
        with suppress(AttributeError):  # the library closes from `__del__` too
            self.outage.close()
        super().close()


def probe(datastore: PostgresDatastore, timeout_s: float) -> Callable[[], None]:
    """Connect once past the pool (the pool's own tries back off for seconds); once that works,
    the pool drops the connections that broke while the database was away."""

    def connect() -> None:
        pooled = datastore.pool.kwargs
        assert isinstance(pooled, dict)  # as `UrlPostgresFactory` checked
        kwargs = {key: value for key, value in pooled.items() if key != "row_factory"}
        # libpq counts whole seconds, and takes less than 2 as 2.
        kwargs.setdefault("connect_timeout", max(2, math.ceil(timeout_s)))
        with psycopg.connect(**kwargs) as conn:
            conn.execute("SELECT 1")
        if not datastore.pool.closed:
            datastore.pool.check()

    return connect


class UrlPostgresFactory(PostgresFactory):
    """The library's factory, whose pool also gets the URL's other connection parameters, and
    whose calls fail fast while the database is away.

    The library's environment has keys for dbname, host, port, user and password only (its
    `POSTGRES_CONNECT_TIMEOUT` is how long a thread waits for a pooled connection, not libpq's
    `connect_timeout`), so `sslmode`, `options`, `connect_timeout`, `application_name`, … travel
    under `LIBPQ_PARAMS` and join the pool's connection arguments here, before the pool opens
    (on its first use).

    With `store_timeout_s` (`TESSERA_STORE_TIMEOUT_MS`, 2 s) the longest a command may wait for
    the store before it is answered `503 try_again`, a thread waits at most half of it for a
    pooled connection (the other half is the writer's linger and the batch ahead of it); a pool
    gives up on a connection that fails after that long too, and the outage's probe tries again
    at most that long apart: once the database is back, commands go through again within it."""

    aggregate_recorder_class = SnapshotRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        params = conninfo_to_dict(self.env.get(LIBPQ_PARAMS) or "")
        pool = self.datastore.pool
        kwargs = pool.kwargs
        assert isinstance(kwargs, dict), "the library passes its connection arguments as a dict"
        kwargs.update(params)
        half = float(self.env.get(STORE_TIMEOUT_S) or 2.0) / 2
        pool.timeout = half
        # The pool's default of five minutes let the delay between its tries to reconnect grow
        # to a minute, and its waiting callers wait for them.
        pool.reconnect_timeout = half
        # The library builds its own datastore: it becomes a guarded one before its pool opens.
        self.datastore.__class__ = GuardedDatastore
        assert isinstance(self.datastore, GuardedDatastore)
        self.datastore.outage = Outage(
            self.env.name or "events", probe(self.datastore, half), max_delay_s=half
        )


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
        STORE_TIMEOUT_S: str(settings.store_timeout_ms / 1000),
        "CREATE_TABLE": "yes" if create_table else "no",
        "APPLICATION_RECORDER_TOPIC": "infra.spine.recorder:ColumnarApplicationRecorder",
        "MAPPER_TOPIC": "commands.codec:StoredEventMapper",
    }


def ensure_schema(settings: Settings) -> None:
    """Create the schema the event store and read models live in; idempotent."""
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(settings.schema)))


def events_table(application_name: str) -> str:
    """The table (and LISTEN channel) the library gives an application's events."""
    return f"{application_name.lower()}_events"
