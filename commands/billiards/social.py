"""Friends, profiles and groups: small aggregates saved directly (not through a writer: they
change seldom). A friendship's two sides are saved in one transaction; a command that loses a
race for an aggregate's version is decided again against the new state."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from commands import stored
from commands.billiards.billiards import Billiards, invite_hash
from commands.billiards.social_wire import (
    ChangeGroup,
    CreateGroup,
    Invite,
    SetPreferences,
)
from commands.billiards.wire import CreateTemplate, EditTemplate
from domain.billiards.errors import (
    GroupNotFound,
    InvalidParameter,
    InvalidQueue,
    NoProfile,
    NotTemplateOwner,
    PlayerNotFound,
    WrongInvite,
)
from domain.billiards.group import Group, group_owner_key
from domain.billiards.player import Player, player_id
from domain.billiards.template import RuleTemplate

T = TypeVar("T")
TRIES = 5


def group_invite_hash(invite: str) -> str:
    return hashlib.sha256(b"group:" + invite.encode()).hexdigest()


class Social:
    def __init__(self, app: Billiards) -> None:
        self.app = app

    def _retrying(self, decide: Callable[[], T]) -> T:
        for attempt in range(TRIES):
            try:
                return decide()
            except IntegrityError:
                if attempt == TRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # -- players ----------------------------------------------------------------------------------

    def find_player(self, account: str) -> Player | None:
        return stored.find(self.app, player_id(account), Player)

    def get_player(self, account: str, *, me: bool = False) -> Player:
        player = self.find_player(account)
        if player is None:
            if me:
                raise NoProfile("open your billiards profile first (PUT /api/billiards/me)")
            raise PlayerNotFound(f"no billiards player {account!r}")
        return player

    def set_profile(
        self, account: str, *, name: str, telegram_id: int | None, username: str | None
    ) -> Player:
        def decide() -> Player:
            now = self.app.clock()
            player = self.find_player(account)
            if player is None:
                player = Player.register(
                    account=account, name=name, share_code=secrets.token_urlsafe(9), now=now
                )
            player.update_profile(name=name, telegram_id=telegram_id, username=username, now=now)
            self.app.save(player)
            return player

        return self._retrying(decide)

    def set_preferences(self, account: str, command: SetPreferences) -> Player:
        def decide() -> Player:
            player = self.get_player(account, me=True)
            player.set_preferences(language=command.language, notices=command.notices,
                                   now=self.app.clock())
            self.app.save(player)
            return player

        return self._retrying(decide)

    def _pair(self, me: str, other: str, act: Callable[[Player, Player], Any]) -> Player:
        def decide() -> Player:
            mine = self.get_player(me, me=True)
            theirs = self.get_player(other) if other != me else mine
            act(mine, theirs)
            if theirs is mine:
                self.app.save(mine)
            else:
                self.app.save(mine, theirs)
            return mine

        return self._retrying(decide)

    def request_friend(self, me: str, other: str) -> Player:
        return self._pair(me, other, lambda a, b: a.request(b, self.app.clock()))

    def accept_friend(self, me: str, other: str) -> Player:
        return self._pair(me, other, lambda a, b: a.accept(b, self.app.clock()))

    def decline_friend(self, me: str, other: str) -> Player:
        return self._pair(me, other, lambda a, b: a.decline(b, self.app.clock()))

    def cancel_request(self, me: str, other: str) -> Player:
        return self._pair(me, other, lambda a, b: a.cancel(b, self.app.clock()))

    def remove_friend(self, me: str, other: str) -> Player:
        return self._pair(me, other, lambda a, b: a.remove(b, self.app.clock()))

    def block(self, me: str, other: str) -> Player:
        return self._pair(me, other, lambda a, b: a.block(b, self.app.clock()))

    def unblock(self, me: str, other: str) -> Player:
        def decide() -> Player:
            player = self.get_player(me, me=True)
            player.unblock(other, self.app.clock())
            self.app.save(player)
            return player

        return self._retrying(decide)

    def invite(self, me: str, command: Invite) -> None:
        what = self._invitation(command)
        self._pair(me, command.friend,
                   lambda a, b: a.invite(b, what=what, now=self.app.clock()))

    def _invitation(self, command: Invite) -> dict[str, Any]:
        if command.match_id is not None:
            if command.invite is None or command.club_id is not None:
                raise InvalidParameter("a match invitation gives match_id and invite only")
            match = self.app.get_match(command.match_id)
            if not secrets.compare_digest(invite_hash(command.invite), match.invite_hash):
                raise WrongInvite("this is not the match's invite")
            if match.finished is not None:
                raise InvalidParameter("this match is over")
            return {"kind": "match", "match_id": str(match.id), "invite": command.invite,
                    "game": match.rules.game, "template": match.template_name}
        if command.club_id is not None and command.game is not None:
            club = self.app.get_club(command.club_id)
            if command.game not in {t["game"] for t in club.tables.values()}:
                raise InvalidQueue(f"this club has no table for {command.game!r}")
            return {"kind": "queue", "club_id": str(club.id), "club": club.name,
                    "game": command.game}
        raise InvalidParameter("invite to a match (match_id, invite) or a queue (club_id, game)")

    # -- groups -----------------------------------------------------------------------------------

    def create_group(self, me: str, command: CreateGroup) -> tuple[Group, str]:
        """The group and its invite link's secret."""
        owner = self.get_player(me, me=True)
        invite = secrets.token_urlsafe(12)
        group = Group.create(
            group_id=uuid4(), name=command.name, owner=me, owner_name=owner.name,
            open=command.open, invite_hash=group_invite_hash(invite), now=self.app.clock(),
        )
        self.app.save(group)
        return group, invite

    def get_group(self, group_id: UUID) -> Group:
        return stored.get(self.app, group_id, Group, GroupNotFound(f"no group {group_id}"))

    def on_group(self, group_id: UUID, act: Callable[[Group], T]) -> tuple[Group, T]:
        def decide() -> tuple[Group, T]:
            group = self.get_group(group_id)
            result = act(group)
            self.app.save(group)
            return group, result

        return self._retrying(decide)

    def join_group(self, me: str, group_id: UUID, invite: str | None) -> tuple[Group, bool]:
        player = self.get_player(me, me=True)
        hashed = None if invite is None else group_invite_hash(invite)
        return self.on_group(group_id, lambda g: g.join(
            account=me, name=player.name, invite_hash=hashed, now=self.app.clock()))

    def answer_join(self, me: str, group_id: UUID, account: str, approve: bool) -> Group:
        def act(group: Group) -> None:
            if approve:
                group.approve(by=me, account=account, now=self.app.clock())
            else:
                group.decline(by=me, account=account, now=self.app.clock())

        return self.on_group(group_id, act)[0]

    def set_role(self, me: str, group_id: UUID, account: str, role: str) -> Group:
        return self.on_group(group_id, lambda g: g.set_role(
            by=me, account=account, role=role, now=self.app.clock()))[0]

    def remove_member(self, me: str, group_id: UUID, account: str) -> Group:
        if account == me:
            return self.on_group(group_id, lambda g: g.leave(account=me, now=self.app.clock()))[0]
        return self.on_group(group_id, lambda g: g.remove(
            by=me, account=account, now=self.app.clock()))[0]

    def change_group(self, me: str, group_id: UUID, command: ChangeGroup) -> Group:
        return self.on_group(group_id, lambda g: g.change(
            by=me, name=command.name, open=command.open, now=self.app.clock()))[0]

    def replace_group_invite(self, me: str, group_id: UUID) -> tuple[Group, str]:
        invite = secrets.token_urlsafe(12)
        group, _ = self.on_group(group_id, lambda g: g.replace_invite(
            by=me, invite_hash=group_invite_hash(invite), now=self.app.clock()))
        return group, invite

    # -- group templates --------------------------------------------------------------------------

    def create_group_template(
        self, me: str, group_id: UUID, command: CreateTemplate
    ) -> RuleTemplate:
        self.get_group(group_id).check_runs(me)
        return self.app.create_template(group_owner_key(group_id), command)

    def _group_template(self, me: str, group_id: UUID, template_id: UUID) -> RuleTemplate:
        self.get_group(group_id).check_runs(me)
        template = self.app.get_template(template_id)
        if template.owner != group_owner_key(group_id):
            raise NotTemplateOwner("this template is not the group's")
        return template

    def edit_group_template(
        self, me: str, group_id: UUID, template_id: UUID, command: EditTemplate
    ) -> RuleTemplate:
        template = self._group_template(me, group_id, template_id)
        return self.app.edit_template(template.owner, template_id, command)

    def delete_group_template(self, me: str, group_id: UUID, template_id: UUID) -> None:
        template = self._group_template(me, group_id, template_id)
        self.app.delete_template(template.owner, template_id)
