"""What a projection runner drives (`infra.spine.runner.ProjectionRunner`): a read model, and
the faster ways of applying events some read models offer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, Self

import asyncpg

from projections.recorded import Columns, Recorded

AfterCommit = Callable[[], Awaitable[None]]
Write = Callable[[asyncpg.Connection], Awaitable[AfterCommit | None]]
"""A read model's write of changes taken earlier (`TakingReadModel.take_changes`)."""


class ReadModel(Protocol):
    """A projection with its view: what the runner drives."""

    name: str
    topics: tuple[str, ...]

    async def load(self) -> None:
        """Restore in-memory state from the view, as of the last commit."""

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Drop the view's rows and in-memory state (inside the rebuild transaction)."""

    def apply(self, event: Recorded) -> None: ...

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        """Write what the applied events changed; return what to do once committed."""


class PageReadModel(ReadModel, Protocol):
    """A read model that applies a page of consecutive events faster than one at a time."""

    def apply_page(self, events: Sequence[Recorded]) -> None: ...


class ColumnsReadModel(ReadModel, Protocol):
    """A read model that catches up from pages read as columns (`StoreReader.read_columns`)."""

    def apply_columns(self, page: Columns) -> None: ...


class TakingReadModel(ReadModel, Protocol):
    """A read model that takes what its applied events changed apart from writing it: a
    catch-up then applies the next page while PostgreSQL writes the one before."""

    def take_changes(self) -> Write:
        """The changes of the events applied so far, as a write of their own: what is applied
        after it changes nothing it writes (`write(conn)` is `take_changes()(conn)`)."""


class WritesInOrder:
    """A catch-up's page writes, each started while the next page is applied (a model that
    takes its changes apart) and committed one at a time, in order. Leaving the block waits for
    the last; left on a failure, a write on its way still ends (its commit and the position it
    moved stand together), whatever it gives."""

    def __init__(self) -> None:
        self._writing: asyncio.Task[None] | None = None

    async def start(self, write: Coroutine[Any, Any, None]) -> None:
        if self._writing is not None:
            await asyncio.shield(self._writing)
        self._writing = asyncio.create_task(write)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        writing, self._writing = self._writing, None
        if writing is None:
            return
        if kind is None:
            await asyncio.shield(writing)
        elif not writing.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(writing)
