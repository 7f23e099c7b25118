"""The library's PostgreSQL application recorder, inserting a batch as column arrays in one
statement.

The stock recorder sends a batch as one array of a composite type, which psycopg escapes field by
field in Python (about 15 µs an event); arrays of plain types go through psycopg's C dumpers
instead, and one aggregate's consecutive events (a canvas writer's batch) send its id and first
version once rather than in two columns. The notification ids come back as one array, not a row
each. And it runs a batch as a pipelined transaction of four statements (lock the table,
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
        id_type = Identifier(self.datastore.originator_id_type)
        head = (
            "RETURNS bigint[] LANGUAGE plpgsql AS $body$ "
            "DECLARE inserted_ids bigint[]; "
            "BEGIN "
            "SET LOCAL lock_timeout = '{lock_timeout}s'; "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "WITH inserted AS (INSERT INTO {schema}.{table} "
            "(originator_id, originator_version, topic, state) "
        )
        tail = (
            " RETURNING notification_id) "
            "SELECT array_agg(notification_id ORDER BY notification_id) INTO inserted_ids "
            "FROM inserted; "
            "RETURN inserted_ids; "
            "END $body$"
        )
        names = {
            "schema": schema,
            "table": table,
            "id_type": id_type,
            "lock_timeout": self.datastore.lock_timeout,
            "channel": Identifier(self.channel_name),
        }
        any_events = Identifier(f"{self.events_table_name}_append")
        one_run = Identifier(f"{self.events_table_name}_append_run")
        self.sql_create_statements += [
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "ids {id_type}[], versions bigint[], topics text[], states bytea[]) "
                + head
                + "SELECT * FROM unnest(ids, versions, topics, states)"
                + tail
            ).format(function=any_events, **names),
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "id {id_type}, first_version bigint, topics text[], states bytea[]) "
                + head
                + "SELECT id, first_version + n - 1, topic, state "
                "FROM unnest(topics, states) WITH ORDINALITY AS event(topic, state, n)"
                + tail
            ).format(function=one_run, **names),
        ]
        # Rendered once: composing them again was a call's worth of work.
        self._insert_any = (
            SQL("SELECT {schema}.{function}(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) AS ids")
            .format(schema=schema, function=any_events, id_type=id_type)
            .as_bytes(None)
        )
        self._insert_run = (
            SQL("SELECT {schema}.{function}(%b::{id_type}, %b::bigint, %b::text[], %b::bytea[]) AS ids")
            .format(schema=schema, function=one_run, id_type=id_type)
            .as_bytes(None)
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int] | None:
        """Insert the events in one transaction; their notification ids, in order. A repeated
        `(originator_id, originator_version)` raises the library's `IntegrityError` (a
        `RecordConflictError`) and inserts nothing.

        One aggregate's consecutive events (a canvas writer's batch) go as its id and first
        version beside the topics and states: the id and version columns cost the most to send."""
        if not stored_events:
            return None
        first = stored_events[0]
        originator = first.originator_id
        topics = [e.topic for e in stored_events]
        states = [e.state for e in stored_events]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            if _one_run(stored_events):
                parameters: tuple[Any, ...] = (originator, first.originator_version, topics, states)
                curs.execute(self._insert_run, parameters, prepare=True)
            else:
                parameters = (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    topics,
                    states,
                )
                curs.execute(self._insert_any, parameters, prepare=True)
            row = curs.fetchone()
        assert row is not None
        ids: list[int] = row["ids"]
        return ids


def _one_run(stored_events: Sequence[StoredEvent]) -> bool:
    """All of one aggregate, versions consecutive in order."""
    first = stored_events[0]
    last = stored_events[-1]
    originator = first.originator_id
    if last.originator_version - first.originator_version != len(stored_events) - 1:
        return False
    version = first.originator_version
    for event in stored_events:
        if event.originator_id != originator or event.originator_version != version:
            return False
        version += 1
    return True
