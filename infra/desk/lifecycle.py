"""The desks' lifecycle on one node: one job that sleeps until the next thing falls due.

- a desk is closed `ttl` after its last edit (the read model says which; the store decides);
- a session ends once no node had a socket on the desk for `idle_session`;
- a desk no command used for `writer_idle` is evicted from the writer's memory.

Every node runs it; two nodes closing the same desk is harmless (closing is idempotent).
Anything new falls due at least the shortest of those spans after it appears, so the job never
sleeps longer than that and never wakes late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from uuid import UUID

from commands.desk.desks import Desks
from infra.desk.hub import DeskHub
from infra.desk.view import DeskView

log = logging.getLogger(__name__)

BATCH = 500
"""Desks closed per run at most; a full batch runs again at once."""
MIN_SLEEP_S = 1.0
"""The read model may lag the store: a desk it shows as due may not be yet."""


class DeskLifecycle:
    def __init__(
        self,
        desks: Desks,
        view: DeskView,
        hub: DeskHub,
        *,
        ttl_s: float,
        idle_session_s: float,
        writer_idle_s: float = 60.0,
    ) -> None:
        self.desks = desks
        self.view = view
        self.hub = hub
        self._ttl = timedelta(seconds=ttl_s)
        self._idle_session = timedelta(seconds=idle_session_s)
        self._writer_idle = timedelta(seconds=writer_idle_s)
        self._max_sleep_s = min(ttl_s, idle_session_s, writer_idle_s)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.closed = 0
        self.sessions_ended = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="desk-lifecycle")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Run now (a test moved the clock)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                delay = await self.run_once()
            except Exception:
                log.exception("the desk lifecycle job failed; trying again shortly")
                delay = self._max_sleep_s
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(delay, MIN_SLEEP_S)):
                    await self._wake.wait()

    async def run_once(self) -> float:
        """Do what is due; the seconds until the next thing is."""
        now = self.desks.clock()
        dues = [
            await self._close_expired(now),
            await self._end_idle_sessions(now),
            self.desks.evict_idle_desks(self._writer_idle),  # a lock and a dict scan: no thread
        ]
        soonest = min((due for due in dues if due is not None), default=None)
        if soonest is None:
            return self._max_sleep_s
        return min(max((soonest - now).total_seconds(), 0.0), self._max_sleep_s)

    async def _close_expired(self, now: datetime) -> datetime | None:
        due = await self.view.edited_before(now - self._ttl, BATCH)
        for desk_id in due:
            await self._close(desk_id)
        if len(due) == BATCH:
            return now
        oldest = await self.view.oldest_edit()
        return None if oldest is None else oldest + self._ttl

    async def _close(self, desk_id: UUID) -> None:
        try:
            closed = await asyncio.to_thread(self.desks.close_desk, desk_id)
        except Exception:
            log.exception("could not close desk %s", desk_id)
            return
        if closed:
            self.closed += 1
            self.hub.closed(desk_id)

    async def _end_idle_sessions(self, now: datetime) -> datetime | None:
        due, later = self.hub.idle_since(now - self._idle_session)
        for desk_id in due:
            if await self.hub.end_idle_session(desk_id) is not None:
                self.sessions_ended += 1
        return None if later is None else later + self._idle_session
