"""What the identity handlers receive: its running parts, as the dependency `identity`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from api.auth import Gate
from api.node import parts_provider
from commands.identity.accounts import Accounts
from infra.identity.google import GoogleVerifier
from infra.identity.refresh_sessions import Rotation
from infra.identity.view import AccountOut
from infra.ratelimit import Limiter

NAME = "identity"


# The ports live here, not beside the handlers that use them, because those import this module.


class AccountReads(Protocol):
    """The accounts read model (`infra.identity.view.AccountView`), as `/api/me` and the admins'
    list ask it."""

    async def find_account(self, account_id: UUID) -> AccountOut | None: ...

    async def list_accounts(self, *, limit: int, after: UUID | None) -> list[AccountOut]: ...


class SignInSessions(Protocol):
    """Sign-in sessions and their refresh tokens (`infra.identity.refresh_sessions.RefreshSessions`),
    as signing in, refreshing and signing out use them."""

    async def start(self, account_id: UUID, now: datetime) -> Rotation: ...

    async def rotate(self, token: str, now: datetime) -> Rotation:
        """Trade a refresh token for a new one; `RefreshTokenReused` once it was used before."""

    async def end(self, token: str, now: datetime) -> UUID | None: ...

    async def end_all(self, account_id: UUID, now: datetime) -> list[UUID]: ...


@dataclass
class IdentityParts:
    accounts: Accounts
    sessions: SignInSessions
    view: AccountReads
    google: GoogleVerifier
    gate: Gate
    clock: Callable[[], datetime]
    """Now, as refresh sessions are started, rotated and ended."""
    guests: Limiter = field(default_factory=lambda: Limiter(0, 0))
    """Guest accounts per client address (`api.identity.guest.guest_limiter`); no limit unless
    the wiring sets one."""


provide_identity = parts_provider(NAME, IdentityParts)
