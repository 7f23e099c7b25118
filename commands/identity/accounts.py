"""The identity context's Application: sign-in finds or registers the account of an identity."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Transcoder

from commands import stored
from commands.clock import utc_now
from commands.codec import MsgspecTranscoder
from commands.text import printable
from commands.writer_thread import WriterBusy
from domain.account import (
    GUEST,
    Account,
    AccountNotFound,
    IdentityClaim,
    IdentityTaken,
    InvalidName,
    claim_id,
    identity_key,
)

_REGISTRATION_RACES = 3
_CHANGE_RACES = 3


class Accounts(Application[UUID]):
    name = "accounts"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        admin_identities: Collection[str] = (),
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self._admin_identities = frozenset(admin_identities)

    def construct_transcoder(self) -> Transcoder:
        return MsgspecTranscoder()

    def sign_in(self, *, provider: str, subject: str, display_name: str) -> Account:
        """The account of this identity, registered on first sight; refuses banned accounts.
        The provider's name is not a decoded request: its control characters are dropped."""
        for _ in range(_REGISTRATION_RACES):
            claim = self._find_claim(provider, subject)
            if claim is not None and claim.account_id is not None:
                account = self.get_account(claim.account_id)
                account.check_can_sign_in()
                return account
            now = self.clock()
            account = Account.register(
                account_id=uuid4(), provider=provider, subject=subject,
                display_name=printable(display_name), now=now,
            )
            if identity_key(provider, subject) in self._admin_identities:
                account.grant(role="admin", by="configuration", now=now)
            if claim is None:
                claim = IdentityClaim.claim(
                    provider=provider, subject=subject, account_id=account.id, now=now
                )
            else:
                claim.reclaim(account_id=account.id, now=now)
            try:
                self.save(account, claim)
            except IntegrityError:
                continue  # the same identity registered at the same moment: take that account
            return account
        raise IdentityTaken("the identity is being registered concurrently; try again")

    def register_guest(self, *, display_name: str) -> Account:
        """A new guest account under a nickname. Its identity is its own id: nobody signs in as
        that guest again, it stays signed in through its refresh tokens (or links a provider)."""
        name = printable(display_name)
        if not name.strip():
            raise InvalidName("a nickname needs at least one visible character")
        account_id = uuid4()
        account = Account.register(
            account_id=account_id, provider=GUEST, subject=account_id.hex, display_name=name,
            now=self.clock(),
        )
        self.save(account)
        return account

    def link_identity(self, account_id: UUID, *, provider: str, subject: str) -> Account:
        account = self.get_account(account_id)
        now = self.clock()
        claim = self._find_claim(provider, subject)
        if claim is None:
            claim = IdentityClaim.claim(
                provider=provider, subject=subject, account_id=account_id, now=now
            )
        else:
            claim.reclaim(account_id=account_id, now=now)
        account.link(provider=provider, subject=subject, now=now)
        self.save(account, claim)
        return account

    def unlink_identity(self, account_id: UUID, *, provider: str, subject: str) -> Account:
        account = self.get_account(account_id)
        now = self.clock()
        account.unlink(provider=provider, subject=subject, now=now)
        claim = self._find_claim(provider, subject)
        if claim is not None and claim.account_id == account_id:
            claim.release(now=now)
        self.save(account, claim)
        return account

    def rename(self, account_id: UUID, display_name: str) -> Account:
        return self._changed(
            account_id, lambda account, now: account.rename(display_name=display_name, now=now)
        )

    def grant_role(self, account_id: UUID, role: str, *, by: str) -> Account:
        return self._changed(
            account_id, lambda account, now: account.grant(role=role, by=by, now=now)
        )

    def revoke_role(self, account_id: UUID, role: str, *, by: str) -> Account:
        return self._changed(
            account_id, lambda account, now: account.revoke(role=role, by=by, now=now)
        )

    def ban(self, account_id: UUID, *, reason: str, by: str) -> Account:
        return self._changed(
            account_id, lambda account, now: account.ban(reason=reason, by=by, now=now)
        )

    def _changed(self, account_id: UUID, change: Callable[[Account, datetime], None]) -> Account:
        """Load the account, change it, save it. When another command saved it first (two
        requests at once, or a resend beside a new command), the change is decided again on
        what that one saved: a lost race is no failure."""
        for _ in range(_CHANGE_RACES):
            account = self.get_account(account_id)
            change(account, self.clock())
            try:
                self.save(account)
            except IntegrityError:
                continue
            return account
        raise WriterBusy(f"account {account_id} kept changing under this command: nothing saved")

    def get_account(self, account_id: UUID) -> Account:
        return stored.get(self, account_id, Account, AccountNotFound(f"no account {account_id}"))

    def _find_claim(self, provider: str, subject: str) -> IdentityClaim | None:
        return stored.find(self, claim_id(provider, subject), IdentityClaim)
