"""Friends and groups decided by their aggregates, without services."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.billiards.errors import (
    AlreadyFriends,
    AlreadyMember,
    BlockedByPlayer,
    CannotFriendYourself,
    InvalidParameter,
    NoFriendRequest,
    NotFriends,
    NotGroupAdmin,
    OwnerStays,
    WrongGroupInvite,
    YouBlocked,
)
from domain.billiards.group import Group
from domain.billiards.player import Player, check_username
from tests.unit.billiards.factories import NOW


def a_player(account: str) -> Player:
    return Player.register(account=account, name=account.title(), share_code=f"code-{account}",
                           now=NOW)


def a_group(*, open: bool = True) -> Group:
    return Group.create(group_id=uuid4(), name="Artel", owner="ann", owner_name="Ann", open=open,
                        invite_hash="h" * 64, now=NOW)


def test_a_request_accepted_makes_both_friends():
    ann, bob = a_player("ann"), a_player("bob")
    ann.request(bob, NOW)
    assert ann.outgoing == {"bob"} and bob.incoming == {"ann"}
    bob.accept(ann, NOW)
    assert ann.friends == {"bob"} and bob.friends == {"ann"}
    assert not (ann.outgoing or bob.incoming)


def test_asking_back_accepts_the_first_request():
    ann, bob = a_player("ann"), a_player("bob")
    ann.request(bob, NOW)
    bob.request(ann, NOW)
    assert ann.friends == {"bob"} and bob.friends == {"ann"}


def test_friending_yourself_is_refused():
    ann = a_player("ann")
    with pytest.raises(CannotFriendYourself):
        ann.request(ann, NOW)


def test_a_blocked_player_can_neither_ask_nor_invite():
    ann, bob = a_player("ann"), a_player("bob")
    ann.request(bob, NOW)
    bob.accept(ann, NOW)
    bob.block(ann, NOW)
    assert not ann.friends and not bob.friends and bob.blocked == {"ann"}
    with pytest.raises(BlockedByPlayer):
        ann.request(bob, NOW)
    with pytest.raises(BlockedByPlayer):
        ann.invite(bob, what={"kind": "match"}, now=NOW)
    with pytest.raises(YouBlocked):
        bob.request(ann, NOW)
    bob.unblock("ann", NOW)
    ann.request(bob, NOW)
    assert bob.incoming == {"ann"}


def test_friends_only_are_invited():
    ann, bob = a_player("ann"), a_player("bob")
    with pytest.raises(NotFriends):
        ann.invite(bob, what={"kind": "match"}, now=NOW)


def test_declining_or_asking_twice_changes_what_it_should():
    ann, bob = a_player("ann"), a_player("bob")
    assert ann.request(bob, NOW) is True
    assert ann.request(bob, NOW) is False
    bob.decline(ann, NOW)
    assert not ann.outgoing and not bob.incoming
    with pytest.raises(NoFriendRequest):
        bob.accept(ann, NOW)
    ann.request(bob, NOW)
    bob.accept(ann, NOW)
    with pytest.raises(AlreadyFriends):
        ann.request(bob, NOW)


def test_a_telegram_username_is_checked_and_lower_cased():
    assert check_username("@Bob_TG") == "bob_tg"
    with pytest.raises(InvalidParameter):
        check_username("no spaces")


def test_a_closed_group_takes_requests_and_the_invited():
    group = a_group(open=False)
    assert group.join(account="bob", name="Bob", invite_hash=None, now=NOW) is False
    assert group.requests == {"bob": "Bob"}
    assert group.join(account="cat", name="Cat", invite_hash="h" * 64, now=NOW) is True
    with pytest.raises(WrongGroupInvite):
        group.join(account="dan", name="Dan", invite_hash="x" * 64, now=NOW)
    group.approve(by="ann", account="bob", now=NOW)
    assert set(group.members) == {"ann", "bob", "cat"}
    with pytest.raises(AlreadyMember):
        group.join(account="bob", name="Bob", invite_hash=None, now=NOW)


def test_a_member_does_not_run_the_group():
    group = a_group()
    for account in ("bob", "cat"):
        group.join(account=account, name=account.title(), invite_hash=None, now=NOW)
    with pytest.raises(NotGroupAdmin):
        group.remove(by="bob", account="cat", now=NOW)
    with pytest.raises(NotGroupAdmin):
        group.set_role(by="bob", account="cat", role="admin", now=NOW)
    group.set_role(by="ann", account="bob", role="admin", now=NOW)
    group.remove(by="bob", account="cat", now=NOW)
    assert "cat" not in group.members
    with pytest.raises(NotGroupAdmin):
        group.set_role(by="bob", account="ann", role="member", now=NOW)


def test_the_owner_hands_the_group_over_before_leaving():
    group = a_group()
    group.join(account="bob", name="Bob", invite_hash=None, now=NOW)
    with pytest.raises(OwnerStays):
        group.leave(account="ann", now=NOW)
    group.set_role(by="ann", account="bob", role="owner", now=NOW)
    assert group.role_of("bob") == "owner" and group.role_of("ann") == "admin"
    group.leave(account="ann", now=NOW)
    assert set(group.members) == {"bob"}
