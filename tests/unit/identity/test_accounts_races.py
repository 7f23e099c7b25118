"""Two commands changing one account at once: the one that saves second is decided again on what
the first saved, rather than failing."""

from datetime import datetime
from uuid import UUID

from commands.clock import utc_now
from commands.identity.accounts import Accounts
from tests.support.fakes import IN_MEMORY


class InterleavingClock:
    """The time, as `Accounts` asks for it between loading an account and saving it; the first
    time, another command on the same account goes first (a second request, at that moment)."""

    def __init__(self) -> None:
        self.meanwhile = None

    def __call__(self) -> datetime:
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return utc_now()


def a_signed_in_account(app: Accounts) -> UUID:
    return app.sign_in(provider="telegram", subject="42", display_name="Ann").id


def test_a_grant_racing_a_rename_of_the_same_account_keeps_both():
    clock = InterleavingClock()
    app = Accounts(IN_MEMORY, clock=clock)
    account_id = a_signed_in_account(app)
    clock.meanwhile = lambda: app.rename(account_id, "Ann B.")
    app.grant_role(account_id, "admin", by="root")
    account = app.get_account(account_id)
    assert (account.display_name, account.roles) == ("Ann B.", ["admin"])


def test_a_rename_racing_a_ban_of_the_same_account_keeps_both():
    clock = InterleavingClock()
    app = Accounts(IN_MEMORY, clock=clock)
    account_id = a_signed_in_account(app)
    clock.meanwhile = lambda: app.ban(account_id, reason="spam", by="root")
    app.rename(account_id, "Ann B.")
    account = app.get_account(account_id)
    assert (account.display_name, account.banned) == ("Ann B.", True)
