"""The bitmap read model: the pure projection, its PostgreSQL view, and live deltas on NATS."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import asyncpg
from nats.aio.client import Client as NATS

from infra.canvas.view import CanvasView, EncodedSnapshot, compress_board
from infra.spine.read_model import AfterCommit, Write
from projections.canvas.bitmap import BitmapProjection, reload_delta
from projections.recorded import Columns, Recorded


class BitmapReadModel:
    name = "bitmap"

    def __init__(
        self,
        view: CanvasView,
        nc: NATS | None,
        *,
        delta_subject: Callable[[str], str],
        snapshot_every: int,
        snapshot_seconds: float,
    ) -> None:
        self.view = view
        self._nc = nc
        self._delta_subject = delta_subject
        self._snapshot_every = snapshot_every
        self._snapshot_seconds = snapshot_seconds
        self.projection = self._new_projection()
        self.topics = self.projection.topics

    def _new_projection(self) -> BitmapProjection:
        return BitmapProjection(
            snapshot_every=self._snapshot_every, snapshot_seconds=self._snapshot_seconds
        )

    async def load(self) -> None:
        self.projection = self._new_projection()
        now = time.monotonic()
        for meta in await self.view.list_canvases():
            board = await self.view.load_board(meta)
            board.snapshot_at = now
            self.projection.restore(board)

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        self.projection = self._new_projection()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    def apply_page(self, events: Sequence[Recorded]) -> None:
        self.projection.apply_page(events)

    def apply_columns(self, page: Columns) -> None:
        self.projection.apply_columns(page)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        return await self.take_changes()(conn)

    def take_changes(self) -> Write:
        """The batch applied so far, closed now (its snapshots' pixels copied), written when
        called: a catch-up or rebuild applies its next page meanwhile."""
        batch = self.projection.collect()

        async def write(conn: asyncpg.Connection) -> AfterCommit | None:
            # The deltas go live before the view commits: their events are in the store
            # already, and each await of the commit is a turn of a loop that may be busy
            # serving requests. Should the commit fail, the runner applies the events again and
            # publishes them again; clients skip a delta that ends at or before the version
            # they hold.
            if self._nc is not None:
                for canvas_id, delta in batch.deltas:
                    if len(delta) > self._nc.max_payload:  # a big fill: clients fetch the snapshot
                        delta = reload_delta(delta)
                    await self._nc.publish(self._delta_subject(str(canvas_id)), delta)
            snapshots = [
                EncodedSnapshot(canvas_id, version, width, height,
                                await asyncio.to_thread(compress_board, pixels))
                for canvas_id, version, width, height, pixels in batch.snapshots
            ]
            await self.view.write(conn, batch, snapshots)
            return None

        return write
