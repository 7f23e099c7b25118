"""What a projection runner drives (`infra.spine.runner.ProjectionRunner`): a read model, and
the faster ways of applying events some read models offer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

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
