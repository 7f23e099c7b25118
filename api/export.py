"""Exports of the event store as an admin's HTTP download (`tessera export` on the command
line): Parquet, CSV or NDJSON, streamed a page at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import Stream

from api.auth import AS_ADMIN
from api.errors import ApiError
from api.node import Context, Node
from commands.actor import Actor
from infra.spine.eventstore import events_table
from infra.spine.export import FORMATS, Chunks, Sink, Source, Span, pages

MEDIA_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv",
    "ndjson": "application/x-ndjson",
}


def sources_of(contexts: Sequence[Context], which: str) -> list[Source]:
    """The event stores `which` names: one context's, or `all` of them."""
    sources = [Source(c.name, events_table(c.application.name)) for c in contexts]
    chosen = sources if which == "all" else [s for s in sources if s.context == which]
    if not chosen:
        names = ", ".join([s.context for s in sources] + ["all"])
        raise ApiError("invalid_export", f"{which!r} is not one of {names}")
    return chosen


def bound(text: str | None, name: str) -> int | datetime | None:
    """A range bound: a notification id, or an ISO 8601 time (UTC when it names no zone)."""
    if text is None or text == "":
        return None
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError("invalid_export", f"{name}={text!r}: a notification id or an ISO time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def span_of(start: str | None, end: str | None) -> Span:
    first, last = bound(start, "from"), bound(end, "to")
    if type(first) is not type(last) and first is not None and last is not None:
        raise ApiError("invalid_export", "from and to must both be ids or both be times")
    if first is not None and last is not None and first > last:  # type: ignore[operator]
        raise ApiError("invalid_export", f"from ({start}) is after to ({end})")
    return Span(
        after=first - 1 if isinstance(first, int) and first > 0 else 0,
        upto=last if isinstance(last, int) else None,
        since=first if isinstance(first, datetime) else None,
        until=last if isinstance(last, datetime) else None,
    )


@get(
    "/api/admin/export",
    dependencies=AS_ADMIN,
    tags=("history",),
    media_type="application/octet-stream",
    refuses=("invalid_export",),
)
async def export_events(
    state: State,
    request: Request[Any, Any, Any],
    admin: Actor,
    context: Annotated[str, Parameter(description="canvas, desk, … or all")] = "all",
    form: Annotated[str, Parameter(query="format")] = "parquet",
    start: Annotated[str | None, Parameter(query="from")] = None,
    end: Annotated[str | None, Parameter(query="to")] = None,
) -> Stream:
    """Every event in the range (notification ids or ISO times, both ends included) as a file:
    `notification_id, context, aggregate, version, type, time, x, y, colour, user, width,
    height, data`."""
    if form not in FORMATS:
        raise ApiError("invalid_export", f"format {form!r} is not one of {', '.join(FORMATS)}")
    node: Node = state.node
    sources = sources_of(node.contexts, context)
    span = span_of(start, end)

    async def body() -> AsyncIterator[bytes]:
        out = Chunks()
        sink = Sink(out, form)  # type: ignore[arg-type]
        for source in sources:
            async for table in pages(node.pool, node.settings.schema, source, span):
                await asyncio.to_thread(sink.write, table)  # compressing: off the loop
                yield out.take()
        await asyncio.to_thread(sink.close)
        yield out.take()

    filename = f"tessera-{context}.{form}"
    return Stream(body(), media_type=MEDIA_TYPES[form],
                  headers={"Content-Disposition": f'attachment; filename="{filename}"'})
