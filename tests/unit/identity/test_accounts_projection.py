"""The accounts projection, fed what the real `Accounts` stored (its own events and the identity
claims', in the order it stored them)."""

from commands.identity.accounts import Accounts
from projections.identity.accounts import AccountChange, AccountsProjection
from tests.factories import T0
from tests.support.fakes import IN_MEMORY
from tests.support.recorded import recorded_by


def accounts(**options) -> Accounts:
    return Accounts(IN_MEMORY, clock=lambda: T0, **options)


def position(app: Accounts) -> int:
    """The last notification `app` stored."""
    return recorded_by(app)[-1].notification_id


def changes_of(app: Accounts, *, after: int = 0) -> list[AccountChange]:
    projection = AccountsProjection()
    for event in recorded_by(app, after=after):
        projection.apply(event)
    return projection.collect()


def test_a_registration_is_a_row_with_its_name_and_first_identity():
    app = accounts()
    account = app.sign_in(provider="telegram", subject="42", display_name="Ann")
    assert changes_of(app) == [
        AccountChange("registered", account.id, 1, "Ann"),
        AccountChange("linked", account.id, 1, "telegram:42"),
    ]  # and nothing for the identity claim


def test_a_configured_admin_is_granted_the_role_as_it_registers():
    app = accounts(admin_identities=["telegram:1"])
    account = app.sign_in(provider="telegram", subject="1", display_name="Root")
    assert AccountChange("granted", account.id, 2, "admin") in changes_of(app)


def test_linking_and_unlinking_an_identity_change_the_rows_identities():
    app = accounts()
    account = app.sign_in(provider="telegram", subject="42", display_name="Ann")
    before = position(app)
    app.link_identity(account.id, provider="google", subject="g1")
    app.unlink_identity(account.id, provider="telegram", subject="42")
    assert changes_of(app, after=before) == [
        AccountChange("linked", account.id, 2, "google:g1"),
        AccountChange("unlinked", account.id, 3, "telegram:42"),
    ]


def test_a_rename_changes_the_rows_name():
    app = accounts()
    account = app.sign_in(provider="telegram", subject="42", display_name="Ann")
    before = position(app)
    app.rename(account.id, "Ann B")
    assert changes_of(app, after=before) == [AccountChange("renamed", account.id, 2, "Ann B")]


def test_granting_revoking_and_banning_change_the_rows_roles_and_ban():
    app = accounts()
    account = app.sign_in(provider="telegram", subject="42", display_name="Ann")
    before = position(app)
    app.grant_role(account.id, "admin", by="root")
    app.revoke_role(account.id, "admin", by="root")
    app.ban(account.id, reason="spam", by="root")
    assert changes_of(app, after=before) == [
        AccountChange("granted", account.id, 2, "admin"),
        AccountChange("revoked", account.id, 3, "admin"),
        AccountChange("banned", account.id, 4),
    ]
