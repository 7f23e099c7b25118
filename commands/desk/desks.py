"""The desk context's Application: creates and finds desks; one shared writer thread decides and
saves the ops of every active desk of this process (each desk's ops in order, many desks' events
in one transaction)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import RecordConflictError, Transcoder

from commands import stored
from commands.clock import utc_now
from commands.codec import MsgspecTranscoder
from commands.desk.wire import (
    ApplyStickerOp,
    CloseDesk,
    DeskCommand,
    EndIdleSession,
    FinishSession,
    InitDesk,
)
from commands.shared_writer import SharedWriter
from domain.desk import Ack, Desk, DeskError, validate_name
from domain.desk_name import DeskName, opener_name_id

DeskWriter = SharedWriter[Desk, DeskCommand]
_CREATE_ATTEMPTS = 3


class DeskNotFound(DeskError):
    code = "desk_not_found"


class DeskGone(DeskError):
    """The desk expired: its link answers 410."""

    code = "desk_gone"


class Tail(NamedTuple):
    ops: list[Desk.StickerChanged]
    sessions_finished: int
    closed: bool = False


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
        case ApplyStickerOp():
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
        self._writer: DeskWriter | None = None
        self._writer_lock = threading.Lock()

    def construct_transcoder(self) -> Transcoder:
        return MsgspecTranscoder()

    # -- creating and finding (blocking: call from a thread) -----------------------------------

    def init_desk(self, command: InitDesk, openers: Sequence[str] = ()) -> OpenedDesk:
        """A new desk (`create_new`), or the live desk of that name among those `openers` (a
        browser's and an account's opaque identities) created or opened before: any other is
        `DeskNotFound`, the same whether the name is someone else's or nobody's."""
        name = validate_name(command.name)
        if not command.create_new:
            desk = self._opened_by(name, openers)
            if desk is None:
                raise DeskNotFound("you have not opened a desk of that name")
            self.remember_openers(desk.id, name, openers)  # what the browser knew, the account too
            return OpenedDesk(desk, None)
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                return self._create(name, openers)
            except RecordConflictError:  # the same opener created one of that name meanwhile
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def remember_openers(self, desk_id: UUID, name: str, openers: Sequence[str]) -> None:
        """From now on `openers` find this desk by its name (the one they opened last)."""
        for attempt in range(_CREATE_ATTEMPTS):
            indexes = self._pointed(desk_id, name, openers, self.clock())
            if not indexes:
                return
            try:
                self.save(*indexes)
                return
            except RecordConflictError:  # another tab of the same opener got there first
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _opened_by(self, name: str, openers: Sequence[str]) -> Desk | None:
        found = None
        # Every opener's index is read whatever the first one holds: one path for every answer.
        for index in [self._name_index(opener_name_id(opener, name)) for opener in openers]:
            desk = None if index is None else self._find(index.desk_id)
            if found is None and desk is not None and not desk.is_expired(self.clock()):
                found = desk
        return found

    def _pointed(
        self, desk_id: UUID, name: str, openers: Sequence[str], now: datetime
    ) -> list[DeskName]:
        """The indexes of `openers` for `name` that must change to point at `desk_id`."""
        changed = []
        for opener in openers:
            index_id = opener_name_id(opener, name)
            index = self._name_index(index_id)
            if index is None:
                index = DeskName.create(name=name, desk_id=desk_id, now=now, index_id=index_id)
            elif index.desk_id == desk_id:
                continue
            else:
                index.point_to(desk_id=desk_id, now=now)
            changed.append(index)
        return changed

    def _create(self, name: str, openers: Sequence[str]) -> OpenedDesk:
        now = self.clock()
        token = secrets.token_urlsafe(32)
        desk = Desk.create(
            desk_id=UUID(bytes=secrets.token_bytes(16)),
            name=name,
            creator_token_hash=token_hash(token),
            ttl_ms=self.ttl_ms,
            now=now,
        )
        # One transaction: an opener's name never points at nothing.
        self.save(desk, *self._pointed(desk.id, name, openers, now))
        return OpenedDesk(desk, token)

    def _name_index(self, index_id: UUID) -> DeskName | None:
        return stored.find(self, index_id, DeskName)

    def _find(self, desk_id: UUID) -> Desk | None:
        return stored.find(self, desk_id, Desk)

    def get_desk(self, desk_id: UUID) -> Desk:
        """The desk as stored; raises `DeskNotFound`, or `DeskGone` once it expired."""
        desk = self._find(desk_id)
        if desk is None:
            raise DeskNotFound("no such desk")
        if desk.is_expired(self.clock()):
            raise DeskGone("this desk has expired")
        return desk

    # -- the writer ---------------------------------------------------------------------------

    @property
    def writer(self) -> DeskWriter:
        """The one writer of every desk in this process, started on first use."""
        if self._writer is not None:
            return self._writer
        with self._writer_lock:
            if self._writer is not None:
                return self._writer
            writer = SharedWriter[Desk, DeskCommand](
                name="desks",
                app=self,
                load=self.get_desk,  # refuses unknown and expired desks
                decide=decide,
                clock=lambda: self.clock(),  # looked up per batch: tests move it
                linger_s=self._linger_s,
                max_batch=self._max_batch,
                snapshot_every=self._snapshot_every,
                domain_errors=(DeskError,),
            )
            writer.start()
            self._writer = writer
            return writer

    async def execute(self, desk_id: UUID, command: DeskCommand) -> Any:
        """Run a command through the writer; returns once it is committed."""
        return await self.writer.submit(desk_id, command)

    async def apply_op(self, desk_id: UUID, op: ApplyStickerOp) -> Ack:
        ack: Ack = await self.execute(desk_id, op)
        return ack

    def active_desks(self) -> int:
        """Desks held in memory by the writer."""
        return 0 if self._writer is None else self._writer.held()

    def evict_idle_desks(self, idle: timedelta) -> datetime | None:
        """Forget the desks no command used for `idle`; returns when the next one falls idle."""
        if self._writer is None:
            return None
        return self._writer.evict_idle(idle, self.clock())

    # -- the lifecycle (blocking) ---------------------------------------------------------------

    def close_desk(self, desk_id: UUID) -> bool:
        """Close a desk that expired (checked against the store, not a read model); True when
        this call closed it. Works where the writer refuses: expired desks are never loaded."""
        if self._writer is not None:
            self._writer.evict(desk_id)
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
        return Tail(ops, finished, any(isinstance(event, Desk.Closed) for event in events))

    def created(self, desk_id: UUID) -> Desk.Created | None:
        """The desk's first event, read from the store (no aggregate is loaded)."""
        first = next(iter(self.events.get(desk_id, lte=1)), None)
        return first if isinstance(first, Desk.Created) else None

    def sessions_finished(self, desk_id: UUID) -> int:
        """How many collaboration sessions of the desk ended, counted in the store."""
        return sum(isinstance(event, Desk.SessionFinished) for event in self.events.get(desk_id))

    def stop_writers(self) -> None:
        if self._writer is not None:
            self._writer.stop()
