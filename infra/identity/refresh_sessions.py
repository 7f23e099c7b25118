"""Sign-in sessions and their refresh tokens in PostgreSQL.

A refresh token is 256 random bits, stored only as its SHA-256, valid one week, and rotated on
every use. A session is the family of tokens rotated from one sign-in: presenting a token that was
already used — after a few seconds of grace for parallel tabs — means it was stolen, and the whole
session is revoked. Access tokens name their session, so a revocation ends them too (every node
re-reads recent revocations every few seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol
from uuid import UUID, uuid4

import asyncpg

from commands.clock import utc_now
from infra.identity.tokens import InvalidToken
from infra.retry import Retry
from infra.spine.readmodels import quote_ident
from infra.tasks import stop_requested

log = logging.getLogger(__name__)

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.auth_sessions (
    session_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS auth_sessions_by_account ON {s}.auth_sessions (account_id);
CREATE INDEX IF NOT EXISTS auth_sessions_by_revocation ON {s}.auth_sessions (revoked_at);
CREATE TABLE IF NOT EXISTS {s}.refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES {s}.auth_sessions (session_id) ON DELETE CASCADE,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_session ON {s}.refresh_tokens (session_id);
"""


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class RefreshTokenReused(InvalidToken):
    code = "refresh_token_reused"

    def __init__(self, session_id: UUID) -> None:
        super().__init__("this refresh token was already used; the session is revoked")
        self.session_id = session_id


class Rotation(NamedTuple):
    account_id: UUID
    session_id: UUID
    refresh_token: str


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class RefreshSessions:
    def __init__(
        self, pool: asyncpg.Pool, schema: str, *, refresh_ttl: timedelta, grace: timedelta
    ) -> None:
        self._pool = pool
        self._s = quote_ident(schema)
        self._ttl = refresh_ttl
        self._grace = grace

    async def start(self, account_id: UUID, now: datetime) -> Rotation:
        session_id = uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                f"INSERT INTO {self._s}.auth_sessions (session_id, account_id, created_at) "
                "VALUES ($1, $2, $3)",
                session_id, account_id, now,
            )
            token = await self._issue(conn, session_id, now)
        return Rotation(account_id, session_id, token)

    async def rotate(self, token: str, now: datetime) -> Rotation:
        """Trade a refresh token for a new one of the same session."""
        reused = False
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT t.session_id, t.expires_at, t.used_at, s.account_id, s.revoked_at "
                f"FROM {self._s}.refresh_tokens t JOIN {self._s}.auth_sessions s "
                "USING (session_id) WHERE t.token_hash = $1 FOR UPDATE OF t",
                _digest(token),
            )
            if row is None:
                raise InvalidToken("unknown refresh token")
            if row["revoked_at"] is not None:
                raise InvalidToken("this session was signed out")
            if row["expires_at"] <= now:
                raise InvalidToken("the refresh token expired")
            if row["used_at"] is not None and now - row["used_at"] > self._grace:
                await self._revoke(conn, row["session_id"], now)
                reused = True
            else:
                if row["used_at"] is None:
                    await conn.execute(
                        f"UPDATE {self._s}.refresh_tokens SET used_at = $2 WHERE token_hash = $1",
                        _digest(token), now,
                    )
                fresh = await self._issue(conn, row["session_id"], now)
        if reused:  # raised after the commit, so the revocation stands
            log.warning("refresh token reused: session %s revoked", row["session_id"])
            raise RefreshTokenReused(row["session_id"])
        return Rotation(row["account_id"], row["session_id"], fresh)

    async def end(self, token: str, now: datetime) -> UUID | None:
        """Sign out: revoke the session the token belongs to. Returns its id, if known."""
        async with self._pool.acquire() as conn, conn.transaction():
            session_id = await conn.fetchval(
                f"SELECT session_id FROM {self._s}.refresh_tokens WHERE token_hash = $1",
                _digest(token),
            )
            if session_id is not None:
                await self._revoke(conn, session_id, now)
        return session_id

    async def end_all(self, account_id: UUID, now: datetime) -> list[UUID]:
        rows = await self._pool.fetch(
            f"UPDATE {self._s}.auth_sessions SET revoked_at = $2 "
            "WHERE account_id = $1 AND revoked_at IS NULL RETURNING session_id",
            account_id, now,
        )
        return [row["session_id"] for row in rows]

    async def revoked_since(self, since: datetime) -> set[UUID]:
        rows = await self._pool.fetch(
            f"SELECT session_id FROM {self._s}.auth_sessions WHERE revoked_at >= $1", since
        )
        return {row["session_id"] for row in rows}

    async def _issue(self, conn: asyncpg.Connection, session_id: UUID, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        await conn.execute(
            f"INSERT INTO {self._s}.refresh_tokens (token_hash, session_id, issued_at, expires_at) "
            "VALUES ($1, $2, $3, $4)",
            _digest(token), session_id, now, now + self._ttl,
        )
        return token

    async def _revoke(self, conn: asyncpg.Connection, session_id: UUID, now: datetime) -> None:
        await conn.execute(
            f"UPDATE {self._s}.auth_sessions SET revoked_at = $2 "
            "WHERE session_id = $1 AND revoked_at IS NULL",
            session_id, now,
        )


class RevokedSessions(Protocol):
    """Where revocations are kept (`RefreshSessions`)."""

    async def revoked_since(self, since: datetime) -> set[UUID]: ...


class Revocations:
    """Sessions revoked recently enough that their access tokens may still be alive."""

    def __init__(self, sessions: RevokedSessions, *, window: timedelta, every_s: float = 2.0) -> None:
        self._sessions = sessions
        self._window = window
        self._every_s = every_s
        self._revoked: set[UUID] = set()
        self._task: asyncio.Task[None] | None = None

    def __contains__(self, session_id: UUID) -> bool:
        return session_id in self._revoked

    def add(self, *session_ids: UUID) -> None:
        self._revoked.update(session_ids)

    async def refresh(self, now: datetime) -> None:
        self._revoked = await self._sessions.revoked_since(now - self._window)

    async def start(self) -> None:
        await self.refresh(utc_now())

        async def loop() -> None:
            # Quiet while the database is away, yet trying every few seconds still: a revocation
            # must be seen soon after it is back.
            retry = Retry(
                log, "revoked sessions", "a refresh failed", first_s=self._every_s, max_s=self._every_s
            )
            while not stop_requested():
                await asyncio.sleep(self._every_s)
                await retry(lambda: self.refresh(utc_now()))

        self._task = asyncio.create_task(loop(), name="revocations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
