"""The club queues at run time: commands through the clubs' writer, the club's frame fanned out
after commit (on the same subjects as the matches', keyed by the club id), a timer per club for
its next call deadline, a match created for players who all confirmed, and a table freed when
its match ends.

A deadline is kept in the club's events, so after a restart an overdue call expires with the
club's next command (each command expires overdue calls first); the timers only make it happen
on time while this node runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from uuid import UUID

from commands.billiards.billiards import Billiards, Decided
from commands.billiards.clubs import AssignMatch, ClubAct, ClubDecided, ExpireCalls, FreeTable
from domain.billiards.errors import BilliardsError
from infra.billiards.hub import MatchHub

log = logging.getLogger(__name__)

SERVER = ""
"""Who gives the commands the server decides by itself (deadlines, ends, assignments)."""


class QueueKeeper:
    def __init__(self, app: Billiards, hub: MatchHub) -> None:
        self.app = app
        self.hub = hub
        self._timers: dict[UUID, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        hub.on_committed(self._match_committed)

    async def execute(self, club_id: UUID, act: ClubAct) -> ClubDecided:
        decided = await self.app.execute_club(club_id, act)
        if decided.frame is not None:
            self.hub.publish(club_id, decided.frame)
        self._arm(club_id, decided.next_deadline_ms)
        if decided.ready is not None:
            return await self._start_match(club_id, decided)
        return decided

    async def _start_match(self, club_id: UUID, decided: ClubDecided) -> ClubDecided:
        assert decided.ready is not None
        table_id, players = decided.ready
        game = next(t["game"] for t in decided.view["tables"] if t["id"] == table_id)
        match = await asyncio.to_thread(
            self.app.create_table_match, club_id, table_id, game, players
        )
        return await self.execute(club_id, ClubAct(SERVER, AssignMatch(table_id, match.id)))

    def _arm(self, club_id: UUID, deadline_ms: int | None) -> None:
        timer = self._timers.pop(club_id, None)
        if timer is not None:
            timer.cancel()
        if deadline_ms is None:
            return
        delay = max(0.0, deadline_ms / 1000 - time.time()) + 0.01
        self._timers[club_id] = asyncio.get_running_loop().call_later(
            delay, self._spawn, club_id, ClubAct(SERVER, ExpireCalls())
        )

    def _spawn(self, club_id: UUID, act: ClubAct) -> None:
        task = asyncio.get_running_loop().create_task(self._quietly(club_id, act))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quietly(self, club_id: UUID, act: ClubAct) -> None:
        try:
            await self.execute(club_id, act)
        except BilliardsError as error:
            log.info("club %s: %r refused: %s", club_id, act.command, error)
        except Exception:
            log.exception("club %s: %r failed", club_id, act.command)

    def _match_committed(self, match_id: UUID, decided: Decided) -> None:
        board = decided.board
        place = board.get("table_id")
        if board.get("finished") is None or not place or "/" not in place:
            return
        club, _, table = place.partition("/")
        with contextlib.suppress(ValueError):
            self._spawn(UUID(club), ClubAct(SERVER, FreeTable(table, match_id)))

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
