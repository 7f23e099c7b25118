"""The library's PostgreSQL application recorder, inserting a batch as four column arrays in one
statement.

The stock recorder sends a batch as one array of a composite type, which psycopg escapes field by
field in Python (about 15 µs an event); four arrays of plain types go through psycopg's C dumpers
instead. And it runs a batch as a pipelined transaction of four statements (lock the table,
NOTIFY, INSERT, COMMIT); here one function call does the same in one autocommitted statement,
which spares the writer thread psycopg's pipeline machinery (a tenth of a desk node's
interpreter time) and the server three round trips' worth of messages. The lock is the library's:
the table stays locked in EXCLUSIVE mode until the commit, so notification ids are committed in
order and a reader following the log never skips one.

Every call is tried once, not ten times as the library's are: a call that cannot reach the
database fails at once and opens the store's outage (`infra.spine.outage`), and whoever called
says `try again` (a writer's callers get `503 try_again` within the store timeout, not after the
library's ~32 s of retries). The snapshots' recorder is the library's, tried once too.
"""

from __future__ import annotations

from collections.abc import Sequence
from inspect import unwrap
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from psycopg.sql import SQL, Identifier


class SnapshotRecorder(PostgresAggregateRecorder):
    """The library's recorder of snapshots, each call tried once."""

    insert_events = unwrap(PostgresAggregateRecorder.insert_events)
    select_events = unwrap(PostgresAggregateRecorder.select_events)


class ColumnarApplicationRecorder(PostgresApplicationRecorder):
    select_events = unwrap(PostgresApplicationRecorder.select_events)
    select_notifications = unwrap(PostgresApplicationRecorder.select_notifications)
    max_notification_id = unwrap(PostgresApplicationRecorder.max_notification_id)

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        table = Identifier(self.events_table_name)
        function = Identifier(f"{self.events_table_name}_insert")
        id_type = Identifier(self.datastore.originator_id_type)
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "ids {id_type}[], versions bigint[], topics text[], states bytea[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $body$ "
                "BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id; "
                "END $body$"
            ).format(
                schema=schema,
                function=function,
                id_type=id_type,
                lock_timeout=self.datastore.lock_timeout,
                table=table,
                channel=Identifier(self.channel_name),
            )
        )
        self._insert_call = (  # rendered once: composing it again was a call's worth of work
            SQL(
                "SELECT notification_id FROM {schema}.{function}("
                "%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) AS notification_id"
            )
            .format(schema=schema, function=function, id_type=id_type)
            .as_bytes(None)
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int] | None:
        """Insert the events in one transaction; their notification ids, in order. A repeated
        `(originator_id, originator_version)` raises the library's `IntegrityError` (a
        `RecordConflictError`) and inserts nothing."""
        if not stored_events:
            return None
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self._insert_call,
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    [e.topic for e in stored_events],
                    [e.state for e in stored_events],
                ),
                prepare=True,
            )
            return [row["notification_id"] for row in curs.fetchall()]
