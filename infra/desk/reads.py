"""A desk as readers see it: the desk view, with the ops it has not folded yet read from the event
store (the view lingers up to a second to batch its writes). No aggregate is loaded."""

from __future__ import annotations

import asyncio
from typing import NamedTuple, Protocol
from uuid import UUID

from commands.desk.desks import DeskGone, DeskNotFound, Desks
from domain import lww
from domain.desk import epoch_ms
from infra.desk.view import DeskBoard, StickerOut, sticker_out

MAX_TAIL = 1000
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
