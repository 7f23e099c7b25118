"""Accounts: who someone is across sign-in providers, their name and their roles.

An identity (a Google `sub`, a Telegram user id) belongs to at most one account. That rule spans
aggregates, so each identity has a tiny `IdentityClaim` aggregate whose id is derived from the
identity itself: two registrations of the same identity collide on its version 1, and only one
can be stored.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

ROLES = ("admin",)
MAX_NAME = 64
GUEST = "guest"
"""The provider of a guest's identity: a nickname, no outside account. A guest signs in once and
stays signed in through its refresh tokens; linking Google or Telegram keeps the account."""


class AccountError(Exception):
    code = "account_error"


class AccountNotFound(AccountError):
    code = "account_not_found"


class AccountBanned(AccountError):
    code = "account_banned"


class IdentityTaken(AccountError):
    code = "identity_taken"


class UnknownRole(AccountError):
    code = "unknown_role"


class LastIdentity(AccountError):
    code = "last_identity"


class InvalidName(AccountError):
    code = "invalid_name"


def identity_key(provider: str, subject: str) -> str:
    return f"{provider}:{subject}"


def claim_id(provider: str, subject: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"tessera:identity:{identity_key(provider, subject)}")


def account_kind(identities: list[str]) -> str:
    """`guest` while every way to sign in is a guest's, else `member`."""
    guest = all(key.startswith(f"{GUEST}:") for key in identities)
    return GUEST if guest and identities else "member"


def clean_name(name: str) -> str:
    name = " ".join(name.split())[:MAX_NAME]
    return name or "player"


class Account(Aggregate):
    class Registered(Aggregate.Created):
        provider: str
        subject: str
        display_name: str

    def __init__(self, provider: str, subject: str, display_name: str) -> None:
        self.identities = [identity_key(provider, subject)]
        self.display_name = display_name
        self.roles: list[str] = []
        self.banned = False

    @property
    def kind(self) -> str:
        return account_kind(self.identities)

    @classmethod
    def register(
        cls, *, account_id: UUID, provider: str, subject: str, display_name: str, now: datetime
    ) -> Account:
        return cls._create(
            cls.Registered,
            id=account_id,
            timestamp=now,
            provider=provider,
            subject=subject,
            display_name=clean_name(display_name),
        )

    def link(self, *, provider: str, subject: str, now: datetime) -> None:
        if identity_key(provider, subject) not in self.identities:
            self.trigger_event(self.IdentityLinked, timestamp=now, provider=provider,
                               subject=subject)

    def unlink(self, *, provider: str, subject: str, now: datetime) -> None:
        key = identity_key(provider, subject)
        if key not in self.identities:
            return
        if len(self.identities) == 1:
            raise LastIdentity("an account keeps at least one way to sign in")
        self.trigger_event(self.IdentityUnlinked, timestamp=now, provider=provider,
                           subject=subject)

    def rename(self, *, display_name: str, now: datetime) -> None:
        name = clean_name(display_name)
        if not display_name.strip():
            raise InvalidName("a display name needs at least one visible character")
        if name != self.display_name:
            self.trigger_event(self.Renamed, timestamp=now, display_name=name)

    def grant(self, *, role: str, by: str, now: datetime) -> None:
        if role not in ROLES:
            raise UnknownRole(f"roles are {', '.join(ROLES)}")
        if role not in self.roles:
            self.trigger_event(self.RoleGranted, timestamp=now, role=role, by=by)

    def revoke(self, *, role: str, by: str, now: datetime) -> None:
        if role not in ROLES:
            raise UnknownRole(f"roles are {', '.join(ROLES)}")
        if role in self.roles:
            self.trigger_event(self.RoleRevoked, timestamp=now, role=role, by=by)

    def ban(self, *, reason: str, by: str, now: datetime) -> None:
        if not self.banned:
            self.trigger_event(self.Banned, timestamp=now, reason=reason[:500], by=by)

    def check_can_sign_in(self) -> None:
        if self.banned:
            raise AccountBanned("this account is banned")

    class IdentityLinked(Aggregate.Event):
        provider: str
        subject: str

        def apply(self, account: Account) -> None:
            account.identities.append(identity_key(self.provider, self.subject))

    class IdentityUnlinked(Aggregate.Event):
        provider: str
        subject: str

        def apply(self, account: Account) -> None:
            account.identities.remove(identity_key(self.provider, self.subject))

    class Renamed(Aggregate.Event):
        display_name: str

        def apply(self, account: Account) -> None:
            account.display_name = self.display_name

    class RoleGranted(Aggregate.Event):
        role: str
        by: str

        def apply(self, account: Account) -> None:
            account.roles.append(self.role)

    class RoleRevoked(Aggregate.Event):
        role: str
        by: str

        def apply(self, account: Account) -> None:
            account.roles.remove(self.role)

    class Banned(Aggregate.Event):
        reason: str
        by: str

        def apply(self, account: Account) -> None:
            account.banned = True


class IdentityClaim(Aggregate):
    """One identity's owner. Created once; its id is `claim_id(provider, subject)`."""

    class Claimed(Aggregate.Created):
        account_id: UUID

    def __init__(self, account_id: UUID) -> None:
        self.account_id: UUID | None = account_id

    @classmethod
    def claim(cls, *, provider: str, subject: str, account_id: UUID, now: datetime) -> IdentityClaim:
        return cls._create(
            cls.Claimed, id=claim_id(provider, subject), timestamp=now, account_id=account_id
        )

    def release(self, *, now: datetime) -> None:
        if self.account_id is not None:
            self.trigger_event(self.Released, timestamp=now)

    def reclaim(self, *, account_id: UUID, now: datetime) -> None:
        if self.account_id is not None and self.account_id != account_id:
            raise IdentityTaken("this identity belongs to another account")
        if self.account_id is None:
            self.trigger_event(self.Reclaimed, timestamp=now, account_id=account_id)

    class Released(Aggregate.Event):
        def apply(self, claim: IdentityClaim) -> None:
            claim.account_id = None

    class Reclaimed(Aggregate.Event):
        account_id: UUID

        def apply(self, claim: IdentityClaim) -> None:
            claim.account_id = self.account_id
