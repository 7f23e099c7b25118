"""The history read model: the pure keyframe projection and its PostgreSQL view."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from infra.canvas.history_view import HistoryView, encode_keyframes
from infra.spine.read_model import AfterCommit
from projections.canvas.history import HistoryProjection
from projections.recorded import Recorded


class HistoryReadModel:
    name = "history"

    def __init__(self, view: HistoryView, *, every: int, maps_every: int = 1) -> None:
        self.view = view
        self._every = every
        self._maps_every = maps_every
        self.projection = self._fresh()
        self.topics = self.projection.topics

    async def load(self) -> None:
        self.projection = self._fresh()
        for canvas in await self.view.list_canvases():
            self.projection.restore(await self.view.load(canvas))

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        self.projection = self._fresh()

    def _fresh(self) -> HistoryProjection:
        return HistoryProjection(every=self._every, maps_every=self._maps_every)

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    def apply_page(self, events: Sequence[Recorded]) -> None:
        self.projection.apply_page(events)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        batch = self.projection.collect()
        await self.view.write(conn, batch, await encode_keyframes(batch))
        return None
