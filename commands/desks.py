"""The desk context's Application: creates and finds desks, runs one writer per active desk."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import RecordConflictError, Transcoder

from commands.clock import utc_now
from commands.codec import MsgspecTranscoder
from commands.desk_wire import (
    CloseDesk,
    DeskCommand,
    EndIdleSession,
    FinishSession,
    InitDesk,
    StickerOp,
)
from commands.writer import AggregateWriter
from domain.desk import Ack, Desk, DeskError, validate_name
from domain.desk_name import DeskName, desk_name_id

DeskWriter = AggregateWriter[Desk, DeskCommand]
_CREATE_ATTEMPTS = 3


class DeskNotFound(DeskError):
    code = "desk_not_found"


class DeskGone(DeskError):
    """The desk expired: its link answers 410."""

    code = "desk_gone"


class Tail(NamedTuple):
    ops: list[Desk.StickerChanged]
    sessions_finished: int


class OpenedDesk(NamedTuple):
    desk: Desk
    creator_token: str | None
    """Only when this call created the desk: the one time the token is shown."""


def desk_link(desk_id: UUID) -> str:
    """The desk's id in its link: its 128 random bits, base64url without padding."""
    return base64.urlsafe_b64encode(desk_id.bytes).rstrip(b"=").decode()


def desk_id_of(link: str) -> UUID:
    try:
        raw = base64.urlsafe_b64decode(link + "==")
    except (binascii.Error, ValueError):
        raise DeskNotFound("no such desk") from None
    if len(link) != 22 or len(raw) != 16:
        raise DeskNotFound("no such desk")
    return UUID(bytes=raw)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def decide(desk: Desk, command: DeskCommand, now: datetime) -> Any:
    match command:
        case StickerOp():
            return desk.apply_op(
                client_id=command.client_id,
                client_seq=command.client_seq,
                sticker_id=command.sticker,
                create=command.create,
                changes=command.fields.changes(),
                stamp=command.stamp,
                seen=command.seen,
                now=now,
            )
        case FinishSession(creator_token=token):
            return desk.finish_session(creator_token_hash=token_hash(token), now=now)
        case EndIdleSession():
            return desk.end_idle_session(now=now)
        case CloseDesk():
            return desk.close(now=now)
    raise TypeError(f"not a desk command: {command!r}")


class Desks(Application[UUID]):
    name = "desks"
    is_snapshotting_enabled = True

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        ttl_s: int = 7 * 24 * 3600,
        linger_s: float = 0.002,
        max_batch: int = 2000,
        snapshot_every: int = 2_000,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.ttl_ms = ttl_s * 1000
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._snapshot_every = snapshot_every
        self._writers: dict[UUID, DeskWriter] = {}
        self._last_used: dict[UUID, datetime] = {}
        self._starting: dict[UUID, asyncio.Future[DeskWriter]] = {}
        self._writers_lock = threading.Lock()

    def construct_transcoder(self) -> Transcoder:
        return MsgspecTranscoder()

    # -- creating and finding (blocking: call from a thread) -----------------------------------

    def init_desk(self, command: InitDesk) -> OpenedDesk:
        """A new desk, or the live desk of that name (see `InitDesk.create_new`)."""
        name = validate_name(command.name)
        for attempt in range(_CREATE_ATTEMPTS):
            index = self._name_index(name)
            if index is not None and not command.create_new:
                desk = self._find(index.desk_id)
                if desk is not None and not desk.is_expired(self.clock()):
                    return OpenedDesk(desk, None)
            try:
                return self._create(name, index)
            except RecordConflictError:  # another node created or repointed the name meanwhile
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _create(self, name: str, index: DeskName | None) -> OpenedDesk:
        now = self.clock()
        token = secrets.token_urlsafe(32)
        desk = Desk.create(
            desk_id=UUID(bytes=secrets.token_bytes(16)),
            name=name,
            creator_token_hash=token_hash(token),
            ttl_ms=self.ttl_ms,
            now=now,
        )
        if index is None:
            index = DeskName.create(name=name, desk_id=desk.id, now=now)
        else:
            index.point_to(desk_id=desk.id, now=now)
        self.save(desk, index)  # one transaction: the name never points at nothing
        return OpenedDesk(desk, token)

    def _name_index(self, name: str) -> DeskName | None:
        try:
            index: object = self.repository.get(desk_name_id(name))
        except AggregateNotFoundError:
            return None
        return index if isinstance(index, DeskName) else None

    def _find(self, desk_id: UUID) -> Desk | None:
        try:
            desk: object = self.repository.get(desk_id)
        except AggregateNotFoundError:
            return None
        return desk if isinstance(desk, Desk) else None

    def get_desk(self, desk_id: UUID) -> Desk:
        """The desk as stored; raises `DeskNotFound`, or `DeskGone` once it expired."""
        desk = self._find(desk_id)
        if desk is None:
            raise DeskNotFound("no such desk")
        if desk.is_expired(self.clock()):
            raise DeskGone("this desk has expired")
        return desk

    # -- the writers --------------------------------------------------------------------------

    def writer(self, desk_id: UUID) -> DeskWriter:
        """The one writer of this desk in this process, started on first use."""
        with self._writers_lock:
            writer = self._writers.get(desk_id)
            if writer is None:
                self.get_desk(desk_id)  # refuse unknown and expired desks before a thread
                writer = AggregateWriter(
                    name=desk_link(desk_id),
                    app=self,
                    load=lambda: self._load(desk_id),
                    decide=decide,
                    clock=lambda: self.clock(),  # looked up per batch: tests move it
                    linger_s=self._linger_s,
                    max_batch=self._max_batch,
                    snapshot_every=self._snapshot_every,
                    domain_errors=(DeskError,),
                )
                writer.start()
                self._writers[desk_id] = writer
            return writer

    def _load(self, desk_id: UUID) -> Desk:
        desk = self._find(desk_id)
        if desk is None:
            raise DeskNotFound("no such desk")
        return desk

    async def execute(self, desk_id: UUID, command: DeskCommand) -> Any:
        """Run a command through the desk's writer; returns once it is committed."""
        while True:
            # Submitted under the lock: an idle writer is only stopped once it left the dict,
            # so nothing is queued behind its stop.
            with self._writers_lock:
                writer = self._writers.get(desk_id)
                if writer is not None:
                    self._last_used[desk_id] = self.clock()
                    future = writer.submit(command)
                    break
            # One start per desk; the commands that waited for it are then queued in the
            # order they came (an author's ops in client_seq order).
            starting = self._starting.get(desk_id)
            if starting is None:
                starting = asyncio.ensure_future(asyncio.to_thread(self.writer, desk_id))
                self._starting[desk_id] = starting
                starting.add_done_callback(lambda _: self._starting.pop(desk_id, None))
            await asyncio.shield(starting)
        return await future

    async def apply_op(self, desk_id: UUID, op: StickerOp) -> Ack:
        ack: Ack = await self.execute(desk_id, op)
        return ack

    def stop_writer(self, desk_id: UUID) -> None:
        with self._writers_lock:
            writer = self._writers.pop(desk_id, None)
            self._last_used.pop(desk_id, None)
        if writer is not None:
            writer.stop()

    def writer_count(self) -> int:
        return len(self._writers)

    def stop_idle_writers(self, idle: timedelta) -> datetime | None:
        """Stop the writers no command used for `idle` (blocking); returns when the next one
        falls idle, if any is left."""
        now = self.clock()
        idle_ids: list[UUID] = []
        stopped: list[DeskWriter] = []
        next_due: datetime | None = None
        with self._writers_lock:
            for desk_id, used in self._last_used.items():
                if used + idle <= now:
                    idle_ids.append(desk_id)
                elif next_due is None or used + idle < next_due:
                    next_due = used + idle
            for desk_id in idle_ids:
                del self._last_used[desk_id]
                writer = self._writers.pop(desk_id, None)
                if writer is not None:
                    stopped.append(writer)
        for writer in stopped:
            writer.stop()
        return next_due

    # -- the lifecycle (blocking) ---------------------------------------------------------------

    def close_desk(self, desk_id: UUID) -> bool:
        """Close a desk that expired (checked against the store, not a read model); True when
        this call closed it. Works where the writers refuse: expired desks have none."""
        self.stop_writer(desk_id)
        for attempt in range(_CREATE_ATTEMPTS):
            desk = self._find(desk_id)
            now = self.clock()
            if desk is None or not desk.is_open or not desk.is_expired(now):
                return False
            desk.close(now=now)
            try:
                self.save(desk)
            except RecordConflictError:  # a writer elsewhere saved an edit meanwhile
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
                continue
            return True
        raise AssertionError("unreachable")

    def ops_since(self, desk_id: UUID, desk_seq: int, limit: int) -> Tail | None:
        """The desk's accepted ops after `desk_seq`, oldest first, and how many sessions ended
        among them; None when there are more than `limit` events to read (a snapshot is then
        cheaper).

        The op numbered n is at aggregate version n + 1 or later (the creation, finished
        sessions and the closing take versions too), so reading after version `desk_seq + 1`
        misses none."""
        events = list(self.events.get(desk_id, gt=desk_seq + 1, limit=limit + 1))
        if len(events) > limit:
            return None
        ops = [
            event
            for event in events
            if isinstance(event, Desk.StickerChanged) and event.desk_seq > desk_seq
        ]
        finished = sum(isinstance(event, Desk.SessionFinished) for event in events)
        return Tail(ops, finished)

    def stop_writers(self) -> None:
        with self._writers_lock:
            writers, self._writers = list(self._writers.values()), {}
        for writer in writers:
            writer.stop()
