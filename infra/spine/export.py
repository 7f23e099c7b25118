"""Exports of the event store for analysts: every event as a row, streamed in bounded memory.

A row: `notification_id`, `context`, `aggregate`, `version`, `type` (the event class, as
`Canvas.PixelPlaced`), `time`, the fields most events share as columns (`x`, `y`, `colour`,
`user`, `width`, `height`; null where an event has none) and the rest of its fields as JSON
in `data` (JSON: times in RFC 3339, bytes in base64). Windows of `page` notification ids are
read as packed columns (see `_PAGE_SQL`) and written as one Parquet row group (or a CSV or
NDJSON slice) each, so an export of any length holds a few pages at a time: one read ahead, one
being decoded, one being written.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from commands.codec import MsgspecTranscoder, msgpack_array_header
from infra.progress import Progress
from infra.spine.readmodels import quote_ident
from infra.spine.store_reader import windows

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


Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), lt=2**31)]


class _Placed(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A placement's state exactly (any other field, or a value that does not fit its column,
    fails the decode and the page takes the general way, so both ways give the same rows)."""

    timestamp: datetime
    x: Int32
    y: Int32
    colour: Int32
    user: str
    op: str | None


_placed_run = msgspec.msgpack.Decoder(list[_Placed]).decode
_transcoder = MsgspecTranscoder()
_NO_OP = '{"op":null}'
_msgpack = msgspec.msgpack.Encoder()
_json = msgspec.json.Encoder(enc_hook=str)
"""Fields as JSON: times in RFC 3339, UUIDs as text, bytes (a relayed message) in base64."""

_PAGE_SQL = """
SELECT count(*),
       string_agg(int8send(notification_id) || int8send(originator_version)
                  || int4send(octet_length(topic)) || int4send(length(state))
                  || uuid_send(originator_id), ''),
       string_agg(textsend(topic), ''),
       string_agg(state, '')
FROM {table} WHERE notification_id > $1 AND notification_id <= $2
"""
"""A window of notification ids as one row of packed columns: PostgreSQL concatenates in C what
asyncpg would otherwise turn into a record of Python objects per event, and the export builds
its columns from the buffers in bulk. The aggregates see the rows in the same order, so the
columns stay aligned; that order is the table's (no sort), put right by the export if needed."""

_HEAD = np.dtype([("id", ">i8"), ("version", ">i8"), ("topic_length", ">i4"),
                  ("state_length", ">i4"), ("aggregate", np.uint8, 16)])


def _strings(data: bytes, lengths: np.ndarray) -> pa.Array:
    """Strings of `lengths` bytes each, written one after the other in `data`, as an array."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data))


def _mapped(values: pa.Array, name: Callable[[Any], str]) -> pa.Array:
    """`name` of each value as a string column, called once a distinct value (a page has a few
    aggregates and event types among thousands of rows)."""
    encoded = values.dictionary_encode()
    names = [name(value) for value in encoded.dictionary.to_pylist()]
    return pa.array(names, pa.string()).take(encoded.indices)


def _repeat(value: str, count: int) -> pa.Array:
    return pa.array([value], pa.string()).take(np.zeros(count, dtype=np.int32))


def _columns(context: str, page: asyncpg.Record) -> pa.Table:
    """A page (a row of `_PAGE_SQL`) as the export's table."""
    count, packed, topics_data, states = page
    head = np.frombuffer(packed, _HEAD)
    topics = _strings(topics_data, head["topic_length"])
    aggregates = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), count, [None, pa.py_buffer(head["aggregate"].tobytes())])
    columns = {
        "notification_id": pa.array(head["id"].astype(np.int64)),
        "context": _repeat(context, count),
        "aggregate": _mapped(aggregates, lambda raw: str(UUID(bytes=raw))),
        "version": pa.array(head["version"].astype(np.int64)),
        "type": _mapped(topics, lambda topic: topic.rpartition(":")[2]),
    }
    fields = None
    if topics.unique().to_pylist() == [PLACED]:
        with contextlib.suppress(msgspec.ValidationError):
            fields = _placed_fields(_placed_run(msgpack_array_header(count) + states))
    if fields is None:
        fields = _state_fields(_transcoder.decode_run(states, count))
    table = pa.Table.from_pydict(columns | fields, schema=SCHEMA)
    ids = head["id"]
    if count > 1 and not (ids[1:] > ids[:-1]).all():
        table = table.take(np.argsort(ids, kind="stable"))
    return table


def _placed_fields(placed: list[_Placed]) -> dict[str, Any]:
    """The columns of a page of placements, each built from one pass over the structs."""
    count = len(placed)
    ops = [p.op for p in placed]
    return {
        "time": _times([p.timestamp for p in placed]),
        "x": pa.array([p.x for p in placed], pa.int32()),
        "y": pa.array([p.y for p in placed], pa.int32()),
        "colour": pa.array([p.colour for p in placed], pa.int32()),
        "user": pa.array([p.user for p in placed], pa.string()),
        "width": pa.nulls(count, pa.int32()), "height": pa.nulls(count, pa.int32()),
        "data": _repeat(_NO_OP, count) if ops.count(None) == count else pa.array(
            [_NO_OP if op is None else _json.encode({"op": op}).decode() for op in ops],
            pa.string()),
    }


def _times(moments: list[datetime]) -> pa.Array:
    """Aware datetimes as the time column. pyarrow takes about 0.4 µs a datetime; msgspec writes
    them all in C as msgpack timestamps, which numpy unpacks at once when every one has the
    64-bit form (34 bits of seconds, 30 of nanoseconds: microseconds not 0, 1970 to 2514)."""
    time_type = SCHEMA.field("time").type
    count = len(moments)
    packed = _msgpack.encode(moments)
    header = len(packed) - 10 * count
    if header in (1, 3, 5) and all(moment.microsecond for moment in moments):
        records = np.frombuffer(packed, np.uint8, offset=header).reshape(count, 10)
        if (records[:, 0] == 0xD7).all() and (records[:, 1] == 0xFF).all():
            stamps = records[:, 2:].copy().view(">u8").ravel()
            seconds = (stamps & (2**34 - 1)).astype(np.int64)
            return pa.array(seconds * 1_000_000 + (stamps >> 34).astype(np.int64) // 1000,
                            pa.int64()).view(time_type)
    return pa.array(moments, time_type)


def _state_fields(states: list[dict[str, Any]]) -> dict[str, Any]:
    """The columns of any page: the shared fields that fit their column, the rest as JSON."""
    times: list[Any] = []
    shared: dict[str, list[Any]] = {name: [] for name in SHARED}
    data: list[str | None] = []
    for state in states:
        times.append(state.pop("timestamp", None))
        for name in SHARED:
            value = state.get(name)
            fits = isinstance(value, str) if name == "user" else (
                isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31)
            shared[name].append(state.pop(name) if fits else None)
        state.pop("originator_topic", None)
        data.append(_json.encode(state).decode() if state else None)
    return {"time": times, **shared, "data": data}


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
    """The events of one context in `span`, a table per page, in log order.

    The next page is asked for before this one is decoded (in a thread), so PostgreSQL reads
    and packs it on the other core meanwhile (`infra.spine.store_reader.windows`)."""
    table = f"{quote_ident(schema)}.{quote_ident(source.table)}"
    async with pool.acquire() as conn:
        bounds = await conn.fetchrow(
            f"SELECT min(notification_id), max(notification_id) FROM {table} "
            "WHERE notification_id > $1", span.after)
        first, last = int(bounds[0] or 0), int(bounds[1] or 0)
        end = last if span.upto is None else min(last, span.upto)
        pages_read = windows(
            conn, _PAGE_SQL.format(table=table), max(span.after, first - 1), end, page
        )
        async with contextlib.aclosing(pages_read):
            async for high, rows in pages_read:
                if progress is not None:
                    progress(high - first + 1, end - first + 1)
                if rows[0][0]:
                    yield _in_time(await asyncio.to_thread(_columns, source.context, rows[0]), span)


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
    """Every event of the sources in `span`, context after context, into `sink`; the rows.

    A page is written (in a thread: pyarrow lets go of the GIL to compress) while the next is
    read and decoded."""
    writing: asyncio.Future[None] | None = None
    try:
        for source in sources:
            async for table in pages(pool, schema, source, span, page=page, progress=progress):
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(asyncio.to_thread(sink.write, table))
    finally:
        if writing is not None:
            await writing
    await asyncio.to_thread(sink.close)
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
