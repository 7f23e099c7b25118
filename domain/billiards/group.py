"""A group of players (a club's regulars, a league, a company of friends): members with roles,
an invite link, and, when closed, requests to join that its owner or admins answer.

Roles: the `owner` (one, who created it or was handed it) runs everything; `admin`s answer join
requests, remove members and keep the group's templates; `member`s play. An invite link joins
at once, open or closed; without it an open group is joined at once and a closed one is asked.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.billiards.errors import (
    AlreadyMember,
    InvalidGroup,
    NoJoinRequest,
    NotGroupAdmin,
    NotGroupMember,
    OwnerStays,
    WrongGroupInvite,
)
from domain.billiards.match import check_name

OWNER, ADMIN, MEMBER = "owner", "admin", "member"
ROLES = (OWNER, ADMIN, MEMBER)
MAX_MEMBERS = 500
MAX_REQUESTS = 200
MAX_GROUP_NAME = 60


def check_group_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_GROUP_NAME:
        raise InvalidGroup(f"a group's name has 1 to {MAX_GROUP_NAME} characters")
    return name


def group_owner_key(group_id: object) -> str:
    """The owner of a group's rule templates (`RuleTemplate.owner`)."""
    return f"group:{group_id}"


class Group(Aggregate):
    class Created(Aggregate.Created):
        name: str
        owner: str
        owner_name: str
        open: bool
        invite_hash: str

    def __init__(
        self, name: str, owner: str, owner_name: str, open: bool, invite_hash: str
    ) -> None:
        self.name = name
        self.open = open
        self.invite_hash = invite_hash
        self.members: dict[str, dict[str, str]] = {owner: {"name": owner_name, "role": OWNER}}
        self.requests: dict[str, str] = {}
        """Who asked to join a closed group, and their names."""

    @classmethod
    def create(
        cls, *, group_id: Any, name: str, owner: str, owner_name: str, open: bool,
        invite_hash: str, now: datetime,
    ) -> Group:
        return cls._create(
            cls.Created, id=group_id, timestamp=now, name=check_group_name(name), owner=owner,
            owner_name=check_name(owner_name), open=open, invite_hash=invite_hash,
        )

    # -- queries ----------------------------------------------------------------------------------

    def role_of(self, account: str) -> str | None:
        member = self.members.get(account)
        return None if member is None else member["role"]

    def check_member(self, account: str) -> None:
        if account not in self.members:
            raise NotGroupMember("you are not a member of this group")

    def check_runs(self, account: str) -> None:
        """The owner or an admin."""
        if self.role_of(account) not in (OWNER, ADMIN):
            raise NotGroupAdmin("only the group's owner or admins do that")

    def view(self, viewer: str | None) -> dict[str, Any]:
        role = None if viewer is None else self.role_of(viewer)
        runs = role in (OWNER, ADMIN)
        return {
            "id": str(self.id), "name": self.name, "open": self.open, "version": self.version,
            "role": role,
            "asked": viewer is not None and viewer in self.requests,
            "members": [
                {"account": account, **member} for account, member in self.members.items()
            ],
            "requests": [
                {"account": account, "name": name} for account, name in self.requests.items()
            ] if runs else [],
        }

    # -- decisions --------------------------------------------------------------------------------

    def join(self, *, account: str, name: str, invite_hash: str | None, now: datetime) -> bool:
        """True when the player is a member now, False when he asked to join."""
        if account in self.members:
            raise AlreadyMember("you are a member already")
        if invite_hash is not None and not hmac.compare_digest(invite_hash, self.invite_hash):
            raise WrongGroupInvite("this invite link is wrong or was replaced")
        name = check_name(name)
        if invite_hash is None and not self.open:
            if account not in self.requests:
                if len(self.requests) >= MAX_REQUESTS:
                    raise InvalidGroup("this group has too many open requests")
                self.trigger_event(self.JoinRequested, timestamp=now, account=account, name=name)
            return False
        self._check_room()
        self.trigger_event(self.MemberJoined, timestamp=now, account=account, name=name)
        return True

    def approve(self, *, by: str, account: str, now: datetime) -> None:
        self.check_runs(by)
        if account not in self.requests:
            raise NoJoinRequest("this player has not asked to join")
        self._check_room()
        self.trigger_event(
            self.MemberJoined, timestamp=now, account=account, name=self.requests[account]
        )

    def decline(self, *, by: str, account: str, now: datetime) -> None:
        self.check_runs(by)
        if account not in self.requests:
            raise NoJoinRequest("this player has not asked to join")
        self.trigger_event(self.JoinDeclined, timestamp=now, account=account)

    def set_role(self, *, by: str, account: str, role: str, now: datetime) -> None:
        """The owner names admins and members, or hands the group over (`owner`: he becomes an
        admin)."""
        if self.role_of(by) != OWNER:
            raise NotGroupAdmin("only the group's owner gives roles")
        if role not in ROLES:
            raise InvalidGroup(f"a role is one of {', '.join(ROLES)}")
        if account not in self.members:
            raise NotGroupMember("that player is not a member of this group")
        if account == by:
            raise OwnerStays("hand the group to another member instead")
        if self.role_of(account) != role:
            self.trigger_event(self.RoleSet, timestamp=now, account=account, role=role)
        if role == OWNER:
            self.trigger_event(self.RoleSet, timestamp=now, account=by, role=ADMIN)

    def remove(self, *, by: str, account: str, now: datetime) -> None:
        """An admin removes members; the owner removes anyone but himself."""
        self.check_runs(by)
        role = self.role_of(account)
        if role is None:
            raise NotGroupMember("that player is not a member of this group")
        if role == OWNER:
            raise OwnerStays("the owner cannot be removed")
        if role == ADMIN and self.role_of(by) != OWNER:
            raise NotGroupAdmin("only the owner removes an admin")
        self.trigger_event(self.MemberLeft, timestamp=now, account=account)

    def leave(self, *, account: str, now: datetime) -> None:
        role = self.role_of(account)
        if role is None:
            raise NotGroupMember("you are not a member of this group")
        if role == OWNER:
            raise OwnerStays("the owner hands the group over before leaving")
        self.trigger_event(self.MemberLeft, timestamp=now, account=account)

    def change(
        self, *, by: str, name: str | None, open: bool | None, now: datetime
    ) -> None:
        self.check_runs(by)
        new_name = self.name if name is None else check_group_name(name)
        new_open = self.open if open is None else open
        if (new_name, new_open) != (self.name, self.open):
            self.trigger_event(self.Changed, timestamp=now, name=new_name, open=new_open)

    def replace_invite(self, *, by: str, invite_hash: str, now: datetime) -> None:
        self.check_runs(by)
        self.trigger_event(self.InviteReplaced, timestamp=now, invite_hash=invite_hash)

    def _check_room(self) -> None:
        if len(self.members) >= MAX_MEMBERS:
            raise InvalidGroup(f"a group has at most {MAX_MEMBERS} members")

    # -- events -----------------------------------------------------------------------------------

    class JoinRequested(Aggregate.Event):
        account: str
        name: str

        def apply(self, group: Group) -> None:
            group.requests[self.account] = self.name

    class JoinDeclined(Aggregate.Event):
        account: str

        def apply(self, group: Group) -> None:
            group.requests.pop(self.account, None)

    class MemberJoined(Aggregate.Event):
        account: str
        name: str

        def apply(self, group: Group) -> None:
            group.requests.pop(self.account, None)
            group.members[self.account] = {"name": self.name, "role": MEMBER}

    class MemberLeft(Aggregate.Event):
        account: str

        def apply(self, group: Group) -> None:
            group.members.pop(self.account, None)

    class RoleSet(Aggregate.Event):
        account: str
        role: str

        def apply(self, group: Group) -> None:
            group.members[self.account]["role"] = self.role

    class Changed(Aggregate.Event):
        name: str
        open: bool

        def apply(self, group: Group) -> None:
            group.name = self.name
            group.open = self.open

    class InviteReplaced(Aggregate.Event):
        invite_hash: str

        def apply(self, group: Group) -> None:
            group.invite_hash = self.invite_hash
