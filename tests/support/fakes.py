"""In-memory stand-ins for the ports: real little classes that keep what the PostgreSQL and NATS
ones keep, in dicts, under the same rules. Each names the port it stands in for."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import numpy as np
from nats.js.errors import KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue

from infra.canvas.pixel_view import PixelOwner
from infra.feedback.view import FeedbackOut
from infra.identity.refresh_sessions import RefreshTokenReused, Rotation
from infra.identity.tokens import InvalidToken
from infra.identity.view import AccountOut
from projections.canvas.bitmap import Batch, CanvasMeta, Chunk, board_at
from projections.canvas.pixel_owners import Filled, Painted
from projections.feedback.messages import FeedbackChange, FeedbackResolved, FeedbackSubmitted
from projections.identity.accounts import AccountChange

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
"""An Application's env for the library's in-memory store, whatever the shell's environment says."""


# -- canvas ------------------------------------------------------------------------------------


class InMemoryCanvasView:
    """`CanvasBoards` (`infra.canvas.view.CanvasView`): canvas rows, the delta ring and snapshots,
    written from the bitmap projection's batches."""

    def __init__(self) -> None:
        self.metas: dict[UUID, CanvasMeta] = {}
        self.chunks: dict[UUID, list[Chunk]] = {}
        self.snapshots: dict[UUID, list[tuple[int, np.ndarray]]] = {}

    def write(self, batch: Batch) -> None:
        for chunk in batch.chunks:
            self.chunks.setdefault(chunk.canvas_id, []).append(chunk)
        for meta in batch.metas:
            self.metas[meta.canvas_id] = meta

    def snapshot(self, canvas_id: UUID, *, ring: int = 0) -> None:
        """Take a snapshot of the latest version and keep only the `ring` versions before it, as
        the real view does after each snapshot."""
        meta = self.metas[canvas_id]
        pixels = board_at(_blank(meta), 0, self.chunks[canvas_id], meta.version)
        self.snapshots.setdefault(canvas_id, []).append((meta.version, pixels))
        kept = meta.version - ring
        self.chunks[canvas_id] = [c for c in self.chunks[canvas_id] if c.to_version > kept]

    async def list_canvases(self) -> list[CanvasMeta]:
        return list(self.metas.values())

    async def find_canvas(self, canvas_id: UUID) -> CanvasMeta | None:
        return self.metas.get(canvas_id)

    async def find_current(self) -> CanvasMeta | None:
        return next((m for m in reversed(self.metas.values()) if m.is_open), None)

    async def list_chunks(self, canvas_id: UUID, after: int, upto: int) -> list[Chunk]:
        chunks = self.chunks.get(canvas_id, [])
        return [c for c in chunks if c.to_version > after and c.from_version < upto]

    async def oldest_version(self, canvas_id: UUID) -> int | None:
        return min((c.from_version for c in self.chunks.get(canvas_id, [])), default=None)

    async def find_board(self, meta: CanvasMeta, version: int) -> np.ndarray | None:
        before = [s for s in self.snapshots.get(meta.canvas_id, []) if s[0] <= version]
        base_version, base = max(before, key=lambda s: s[0], default=(0, _blank(meta)))
        if base_version == version:
            return base
        chunks = await self.list_chunks(meta.canvas_id, base_version, version)
        if not chunks or chunks[0].from_version > base_version or chunks[-1].to_version < version:
            return None
        return board_at(base, base_version, chunks, version)


def _blank(meta: CanvasMeta) -> np.ndarray:
    return np.zeros(meta.width * meta.height, dtype=np.uint8)


class InMemoryPixelOwners:
    """`PixelOwners` (`infra.canvas.pixel_view.PixelView`): the last placement of each pixel and
    the admins' fills, written from the pixel owners projection's changes. No accounts table
    here: `name` stays None."""

    def __init__(self) -> None:
        self.painted: dict[tuple[UUID, int, int], Painted] = {}
        self.filled: list[Filled] = []

    def write(self, changes: tuple[dict[UUID, int], list[Painted], list[Filled]]) -> None:
        cleared, painted, filled = changes

        def kept(row: Painted | Filled) -> bool:
            return row.version >= cleared.get(row.canvas_id, 0)

        self.painted = {key: p for key, p in self.painted.items() if kept(p)}
        self.filled = [f for f in self.filled if kept(f)]
        for p in painted:
            held = self.painted.get((p.canvas_id, p.x, p.y))
            if held is None or held.version < p.version:
                self.painted[p.canvas_id, p.x, p.y] = p
        self.filled.extend(filled)

    async def find_owner(self, canvas_id: UUID, x: int, y: int) -> PixelOwner | None:
        candidates: list[Painted | Filled] = [
            f for f in self.filled
            if f.canvas_id == canvas_id and f.x <= x < f.x + f.width and f.y <= y < f.y + f.height
        ]
        if (canvas_id, x, y) in self.painted:
            candidates.append(self.painted[canvas_id, x, y])
        if not candidates:
            return None
        last = max(candidates, key=lambda c: c.version)
        return PixelOwner(last.user, last.colour, last.version, last.at)


@dataclass
class _Watcher:
    queue: asyncio.Queue[KeyValue.Entry | None]
    stopped: bool = False

    def __aiter__(self) -> _Watcher:
        return self

    async def __anext__(self) -> KeyValue.Entry | None:
        if self.stopped:
            raise StopAsyncIteration
        return await self.queue.get()

    async def stop(self) -> None:
        self.stopped = True


class InMemoryKeyValue:
    """A NATS `KeyValue` bucket as `infra.canvas.presence.Presence` uses it (get, compare-and-set
    by revision, and a watch of every key: what is there, then None, as NATS marks the end of the
    initial values, then each change) and `infra.identity.tickets.UsedTickets` does (create where
    there is nothing)."""

    def __init__(self, bucket: str = "presence") -> None:
        self.bucket = bucket
        self.entries: dict[str, KeyValue.Entry] = {}
        self._revision = 0
        self._watchers: list[_Watcher] = []

    async def get(self, key: str) -> KeyValue.Entry:
        entry = self.entries.get(key)
        if entry is None:
            raise NotFoundError
        return entry

    async def update(self, key: str, value: bytes, last: int | None = None) -> int:
        held = self.entries.get(key)
        if (held.revision if held is not None else 0) != (last or 0):
            raise KeyWrongLastSequenceError
        self._revision += 1
        entry = KeyValue.Entry(self.bucket, key, value, self._revision, None, None, None)
        self.entries[key] = entry
        for watcher in self._watchers:
            watcher.queue.put_nowait(entry)
        return self._revision

    async def create(self, key: str, value: bytes) -> int:
        return await self.update(key, value, last=0)

    async def watchall(self) -> _Watcher:
        watcher = _Watcher(asyncio.Queue())
        for entry in self.entries.values():
            watcher.queue.put_nowait(entry)
        watcher.queue.put_nowait(None)
        self._watchers.append(watcher)
        return watcher


class FakeSubscription:
    def __init__(self, nats: FakeNats, subject: str) -> None:
        self.nats, self.subject = nats, subject

    async def unsubscribe(self) -> None:
        del self.nats.callbacks[self.subject]


class FakeMessage:
    def __init__(self, data: bytes) -> None:
        self.data = data


class FakeNats:
    """Core NATS as `infra.live.fanout.Fanout` uses it, for one node: what it publishes reaches
    its own subscriptions."""

    def __init__(self) -> None:
        self.callbacks: dict[str, Callable[[FakeMessage], Awaitable[None]]] = {}

    async def subscribe(
        self, subject: str, cb: Callable[[FakeMessage], Awaitable[None]]
    ) -> FakeSubscription:
        self.callbacks[subject] = cb
        return FakeSubscription(self, subject)

    async def publish(self, subject: str, data: bytes) -> None:
        await self.callbacks[subject](FakeMessage(data))


# -- identity ----------------------------------------------------------------------------------


class InMemoryAccountView:
    """`AccountReads` (`infra.identity.view.AccountView`): one row per account, written from the
    accounts projection's changes the way the SQL does."""

    def __init__(self) -> None:
        self.rows: dict[UUID, AccountOut] = {}

    def write(self, changes: list[AccountChange]) -> None:
        for change in changes:
            if change.kind == "registered":
                self.rows.setdefault(
                    change.account_id, AccountOut(change.account_id, change.value, [], [], False)
                )
                continue
            row = self.rows.get(change.account_id)
            if row is None:
                continue  # an UPDATE of no row
            match change.kind:
                case "linked":
                    row.identities.append(change.value)
                case "unlinked":
                    row.identities = [i for i in row.identities if i != change.value]
                case "renamed":
                    row.display_name = change.value
                case "granted":
                    row.roles.append(change.value)
                case "revoked":
                    row.roles = [r for r in row.roles if r != change.value]
                case "banned":
                    row.banned = True

    async def find_account(self, account_id: UUID) -> AccountOut | None:
        return self.rows.get(account_id)

    async def list_accounts(self, *, limit: int, after: UUID | None) -> list[AccountOut]:
        ids = sorted(i for i in self.rows if after is None or i > after)
        return [self.rows[i] for i in ids[:limit]]


@dataclass
class _RefreshToken:
    session_id: UUID
    expires_at: datetime
    used_at: datetime | None = None


class InMemorySessions:
    """`SignInSessions` and `RevokedSessions` (`infra.identity.refresh_sessions.RefreshSessions`):
    the same expiry, one-use rotation with a grace for parallel tabs, and revocation."""

    def __init__(
        self, *, refresh_ttl: timedelta = timedelta(days=7), grace: timedelta = timedelta(seconds=5)
    ) -> None:
        self.refresh_ttl = refresh_ttl
        self.grace = grace
        self.accounts: dict[UUID, UUID] = {}
        """Session → its account."""
        self.revoked: dict[UUID, datetime] = {}
        self._tokens: dict[str, _RefreshToken] = {}

    async def start(self, account_id: UUID, now: datetime) -> Rotation:
        session_id = uuid4()
        self.accounts[session_id] = account_id
        return Rotation(account_id, session_id, self._issue(session_id, now))

    async def rotate(self, token: str, now: datetime) -> Rotation:
        held = self._tokens.get(token)
        if held is None:
            raise InvalidToken("unknown refresh token")
        if held.session_id in self.revoked:
            raise InvalidToken("this session was signed out")
        if held.expires_at <= now:
            raise InvalidToken("the refresh token expired")
        if held.used_at is not None and now - held.used_at > self.grace:
            self.revoked[held.session_id] = now
            raise RefreshTokenReused(held.session_id)
        if held.used_at is None:
            held.used_at = now
        account_id = self.accounts[held.session_id]
        return Rotation(account_id, held.session_id, self._issue(held.session_id, now))

    async def end(self, token: str, now: datetime) -> UUID | None:
        held = self._tokens.get(token)
        if held is None:
            return None
        self.revoked.setdefault(held.session_id, now)
        return held.session_id

    async def end_all(self, account_id: UUID, now: datetime) -> list[UUID]:
        ended = [
            session_id
            for session_id, owner in self.accounts.items()
            if owner == account_id and session_id not in self.revoked
        ]
        for session_id in ended:
            self.revoked[session_id] = now
        return ended

    async def revoked_since(self, since: datetime) -> set[UUID]:
        return {session_id for session_id, at in self.revoked.items() if at >= since}

    def _issue(self, session_id: UUID, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[token] = _RefreshToken(session_id, now + self.refresh_ttl)
        return token


# -- feedback ----------------------------------------------------------------------------------


class InMemoryFeedbackView:
    """`FeedbackList` (`infra.feedback.view.FeedbackView`): one row per submission, written from
    the feedback projection's changes. No accounts table here: `account_name` stays None."""

    def __init__(self) -> None:
        self.rows: dict[UUID, tuple[int, FeedbackOut]] = {}

    def write(self, changes: list[FeedbackChange]) -> None:
        for change in changes:
            match change:
                case FeedbackSubmitted():
                    row = FeedbackOut(
                        change.feedback_id,
                        change.message,
                        change.at,
                        contact=change.contact,
                        account_id=change.account_id,
                        canvas_id=change.canvas_id,
                        page=change.page,
                        user_agent=change.user_agent,
                    )
                    self.rows.setdefault(change.feedback_id, (change.version, row))
                case FeedbackResolved():
                    held = self.rows.get(change.feedback_id)
                    if held is not None and held[0] < change.version:
                        row = held[1]
                        row.resolved_by, row.resolved_at = change.resolved_by, change.at
                        self.rows[change.feedback_id] = (change.version, row)

    async def list_feedback(
        self, *, limit: int, before: UUID | None = None, unresolved: bool = False
    ) -> list[FeedbackOut]:
        rows = sorted(
            (row for _, row in self.rows.values()),
            key=lambda row: (row.submitted_at, row.id),
            reverse=True,
        )
        if before is not None:
            if before not in self.rows:
                return []
            cursor = self.rows[before][1]
            rows = [r for r in rows if (r.submitted_at, r.id) < (cursor.submitted_at, cursor.id)]
        if unresolved:
            rows = [r for r in rows if r.resolved_at is None]
        return rows[:limit]
