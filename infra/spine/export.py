"""Exports of the event store for analysts: every event as a row, streamed in bounded memory.

A row: `notification_id`, `context`, `aggregate`, `version`, `type` (the event class, as
`Canvas.PixelPlaced`), `time`, the fields most events share as columns (`x`, `y`, `colour`,
`user`, `width`, `height`; null where an event has none) and the rest of its fields as JSON
in `data` (JSON: times in RFC 3339, bytes in base64). Pages of `page` events are read by notification id and written as one Parquet row
group (or a CSV or NDJSON slice) each, so an export of any length holds one page at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import asyncpg
import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from commands.codec import MsgspecTranscoder
from infra.progress import Progress
from infra.spine.readmodels import quote_ident

FORMATS = ("parquet", "csv", "ndjson")
PAGE = 65_536
PLACED = "domain.canvas:Canvas.PixelPlaced"
SHARED = ("x", "y", "colour", "user", "width", "height")

SCHEMA = pa.schema([
    ("notification_id", pa.int64()),
    ("context", pa.string()),
    ("aggregate", pa.string()),
    ("version", pa.int64()),
    ("type", pa.string()),
    ("time", pa.timestamp("us", tz="UTC")),
    ("x", pa.int32()),
    ("y", pa.int32()),
    ("colour", pa.int32()),
    ("user", pa.string()),
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("data", pa.string()),
])


class ExportError(ValueError):
    """An export asked for something that cannot be (a format, a range)."""


@dataclass(frozen=True)
class Source:
    """One context's event store: its name and its events table."""

    context: str
    table: str


@dataclass(frozen=True)
class Span:
    """Which events: notification ids in (after, upto], and event times in [since, until]."""

    after: int = 0
    upto: int | None = None
    since: datetime | None = None
    until: datetime | None = None


class _Placed(msgspec.Struct, gc=False):
    x: int
    y: int
    colour: int
    user: str
    timestamp: datetime


_placed_list = msgspec.msgpack.Decoder(list[_Placed]).decode
_transcoder = MsgspecTranscoder()
_json = msgspec.json.Encoder(enc_hook=str)
"""Fields as JSON: times in RFC 3339, UUIDs as text, bytes (a relayed message) in base64."""


def _columns(context: str, rows: Sequence[asyncpg.Record]) -> pa.Table:
    """A page of rows as the export's table; a page of placements only is decoded in one call
    and built column by column in C."""
    count = len(rows)
    topics = [row[3] for row in rows]
    head = {
        "notification_id": pa.array([row[0] for row in rows], pa.int64()),
        "context": pa.array([context], pa.string()).take(np.zeros(count, dtype=np.int32)),
        "aggregate": pa.array([row[1] for row in rows], pa.string()),
        "version": pa.array([row[2] for row in rows], pa.int64()),
    }
    if count and topics.count(PLACED) == count:
        header = b"\xdd" + count.to_bytes(4, "big")
        placed = _placed_list(header + b"".join([row[4] for row in rows]))
        xyc = np.fromiter((v for p in placed for v in (p.x, p.y, p.colour)), dtype=np.int32,
                          count=3 * count).reshape(count, 3)
        columns = head | {
            "type": pa.array([PLACED.rpartition(":")[2]], pa.string()).take(
                np.zeros(count, dtype=np.int32)),
            "time": pa.array([p.timestamp for p in placed], SCHEMA.field("time").type),
            "x": pa.array(xyc[:, 0]), "y": pa.array(xyc[:, 1]), "colour": pa.array(xyc[:, 2]),
            "user": pa.array([p.user for p in placed], pa.string()),
            "width": pa.nulls(count, pa.int32()), "height": pa.nulls(count, pa.int32()),
            "data": pa.nulls(count, pa.string()),
        }
        return pa.Table.from_pydict(columns, schema=SCHEMA)
    times: list[Any] = []
    shared: dict[str, list[Any]] = {name: [] for name in SHARED}
    data: list[str | None] = []
    for row in rows:
        state = _transcoder.decode(row[4])
        times.append(state.pop("timestamp", None))
        for name in SHARED:
            value = state.get(name)
            fits = isinstance(value, str) if name == "user" else (
                isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31)
            shared[name].append(state.pop(name) if fits else None)
        state.pop("originator_topic", None)
        data.append(_json.encode(state).decode() if state else None)
    rest_columns: dict[str, Any] = {
        "type": [topic.rpartition(":")[2] for topic in topics], "time": times, **shared,
        "data": data}
    return pa.Table.from_pydict(head | rest_columns, schema=SCHEMA)


def _in_time(table: pa.Table, span: Span) -> pa.Table:
    if span.since is None and span.until is None:
        return table
    import pyarrow.compute as pc

    mask = None
    if span.since is not None:
        mask = pc.greater_equal(table["time"], pa.scalar(span.since, SCHEMA.field("time").type))
    if span.until is not None:
        upper = pc.less_equal(table["time"], pa.scalar(span.until, SCHEMA.field("time").type))
        mask = upper if mask is None else pc.and_(mask, upper)
    return table.filter(mask)


async def pages(
    pool: asyncpg.Pool,
    schema: str,
    source: Source,
    span: Span,
    *,
    page: int = PAGE,
    progress: Progress | None = None,
) -> AsyncIterator[pa.Table]:
    """The events of one context in `span`, a table per page, in log order."""
    table = f"{quote_ident(schema)}.{quote_ident(source.table)}"
    async with pool.acquire() as conn:
        await conn.set_type_codec("uuid", encoder=str, decoder=str, schema="pg_catalog",
                                  format="text")
        try:
            bounds = await conn.fetchrow(
                f"SELECT min(notification_id), max(notification_id) FROM {table} "
                "WHERE notification_id > $1", span.after)
            first, last = int(bounds[0] or 0), int(bounds[1] or 0)
            end = last if span.upto is None else min(last, span.upto)
            fetch = await conn.prepare(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {table} WHERE notification_id > $1 AND notification_id <= $2 "
                "ORDER BY notification_id LIMIT $3"
            )
            position = span.after
            while position < end:
                rows = await fetch.fetch(position, end, page)
                if not rows:
                    break
                position = rows[-1][0]
                if progress is not None:
                    progress(position - first + 1, end - first + 1)
                yield _in_time(_columns(source.context, rows), span)
        finally:
            await conn.reset_type_codec("uuid", schema="pg_catalog")


class Sink:
    """Writes tables to a binary file in one of the formats."""

    def __init__(self, out: IO[bytes], form: str) -> None:
        if form not in FORMATS:
            raise ExportError(f"format {form!r} is not one of {', '.join(FORMATS)}")
        self._out = out
        self._form = form
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pa_csv.CSVWriter | None = None
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        match self._form:
            case "parquet":
                if self._parquet is None:
                    self._parquet = pq.ParquetWriter(self._out, SCHEMA, compression="zstd")
                if table.num_rows:
                    self._parquet.write_table(table, row_group_size=max(table.num_rows, 1))
            case "csv":
                if self._csv is None:
                    self._csv = pa_csv.CSVWriter(self._out, SCHEMA)
                self._csv.write_table(table)
            case "ndjson":
                for row in table.to_pylist():
                    self._out.write(_json.encode(row))
                    self._out.write(b"\n")

    def close(self) -> None:
        if self._form == "parquet" and self._parquet is None:
            self._parquet = pq.ParquetWriter(self._out, SCHEMA, compression="zstd")
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        elif self._form == "csv":
            pa_csv.CSVWriter(self._out, SCHEMA).close()  # the header alone


async def export(
    pool: asyncpg.Pool,
    schema: str,
    sources: Sequence[Source],
    span: Span,
    sink: Sink,
    *,
    progress: Progress | None = None,
    page: int = PAGE,
) -> int:
    """Every event of the sources in `span`, context after context, into `sink`; the rows."""
    for source in sources:
        async for table in pages(pool, schema, source, span, page=page, progress=progress):
            sink.write(table)
    sink.close()
    return sink.rows


class Chunks:
    """A write-only binary file whose bytes are taken out as they come (an HTTP download)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        self._parts.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data
