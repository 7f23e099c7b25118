"""A desk as readers see it: the desk view, with the ops it has not folded yet read from the event
store (the view lingers up to a second to batch its writes). No aggregate is loaded."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from commands.desk.desks import DeskGone, DeskNotFound, Desks
from domain import lww
from domain.desk import Desk, epoch_ms
from infra.desk.view import DeskBoard, StickerOut, sticker_out

MAX_TAIL = 1000
PAGE = 1000
"""Events a historical read takes from the store at a time."""
"""Ops a read folds onto the view at most; beyond that the view is far behind (`try_again`)."""


class DeskState(NamedTuple):
    desk_id: UUID
    name: str
    epoch: int
    desk_seq: int
    expires_at_ms: int
    stickers: list[StickerOut]


class DeskBehind(Exception):
    """The desk view is too far behind the store to answer from it now: ask again shortly."""

    code = "try_again"


class DeskBoards(Protocol):
    """What a read asks of the desk view (`DeskView`)."""

    async def find_board(self, desk_id: UUID) -> DeskBoard | None: ...


class DeskReads:
    def __init__(self, view: DeskBoards, desks: Desks, *, ttl_s: int) -> None:
        self.view = view
        self.desks = desks
        self._ttl_ms = ttl_s * 1000

    async def get_desk(self, desk_id: UUID) -> DeskState:
        """The live desk; raises `DeskNotFound`, or `DeskGone` once it expired or closed."""
        board = await self.view.find_board(desk_id)
        ttl_ms = self._ttl_ms
        if board is None:  # not projected yet, closed, or never created: the store tells
            created = await asyncio.to_thread(self.desks.created, desk_id)
            if created is None:
                raise DeskNotFound("no such desk")
            board = DeskBoard(created.name, 0, 1, created.created_ms, {})
            ttl_ms = created.ttl_ms
        tail = await asyncio.to_thread(self.desks.ops_since, desk_id, board.desk_seq, MAX_TAIL)
        if tail is None:
            raise DeskBehind(f"the desk view is over {MAX_TAIL} ops behind")
        if tail.closed:
            raise DeskGone("this desk has expired")
        stickers, last_edit_ms = board.stickers, board.last_edit_ms
        for op in tail.ops:
            lww.merge(stickers, op.sticker_id, op.changes, lww.as_stamp(op.stamp))
            last_edit_ms = epoch_ms(op.timestamp)
        if epoch_ms(self.desks.clock()) >= last_edit_ms + ttl_ms:
            raise DeskGone("this desk has expired")
        epoch = board.epoch
        if tail.sessions_finished:  # the view may have counted some of them already
            epoch = 1 + await asyncio.to_thread(self.desks.sessions_finished, desk_id)
        return DeskState(
            desk_id,
            board.name,
            epoch,
            tail.ops[-1].desk_seq if tail.ops else board.desk_seq,
            last_edit_ms + ttl_ms,
            [sticker_out(key, registers) for key, registers in sorted(stickers.items())],
        )

    async def get_desk_at(self, desk_id: UUID, desk_seq: int) -> DeskState:
        """The desk as it was at its op `desk_seq` (0: as created), folded from its events in
        the store up to that op (and what else happened before the next one, as a finished
        session). The caller checks that the desk has come that far (`get_desk`)."""
        events = await asyncio.to_thread(self._events_until, desk_id, desk_seq)
        created = events[0] if events else None
        if not isinstance(created, Desk.Created):
            raise DeskNotFound("no such desk")
        stickers: lww.Board = {}
        epoch, seq, last_edit_ms = 1, 0, created.created_ms
        for event in events[1:]:
            match event:
                case Desk.StickerChanged():
                    lww.merge(stickers, event.sticker_id, event.changes, lww.as_stamp(event.stamp))
                    seq, last_edit_ms = event.desk_seq, epoch_ms(event.timestamp)
                case Desk.SessionFinished():
                    epoch += 1
        return DeskState(
            desk_id,
            created.name,
            epoch,
            seq,
            last_edit_ms + created.ttl_ms,
            [sticker_out(key, registers) for key, registers in sorted(stickers.items())],
        )

    def _events_until(self, desk_id: UUID, desk_seq: int) -> list[Any]:
        """The desk's events, oldest first, up to (not including) its op `desk_seq + 1`, read a
        page at a time so that an early version does not read the whole desk."""
        found: list[Any] = []
        after = 0
        while True:
            page = list(self.desks.events.get(desk_id, gt=after, limit=PAGE))
            for event in page:
                if isinstance(event, Desk.StickerChanged) and event.desk_seq > desk_seq:
                    return found
                found.append(event)
            if len(page) < PAGE:
                return found
            after = page[-1].originator_version
