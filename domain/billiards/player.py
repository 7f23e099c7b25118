"""A billiards player: the profile others find him by, his friends, whom he blocked, and which
notifications he gets. One aggregate per account (`player_id(account)`).

A friendship is two players' business: every decision is taken by both aggregates, each
recording its own side, and the application saves both in one transaction. The one who blocked
keeps the block; the blocked one just loses the friendship or the request, and can no longer
request or invite.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.billiards.errors import (
    AlreadyFriends,
    BlockedByPlayer,
    CannotFriendYourself,
    InvalidParameter,
    NoFriendRequest,
    NotFriends,
    TooManyFriends,
    YouBlocked,
)
from domain.billiards.match import check_name

_NAMESPACE = UUID("4f0d5c1e-5b8e-4c55-9a31-3a3d8e0b7a21")
MAX_FRIENDS = 1000
NOTICE_KINDS = ("table_ready", "match_invite", "friend_request", "match_result", "weekly")
LANGUAGES = ("ru", "en")
_USERNAME = re.compile(r"^[a-z0-9_]{4,32}$")


def player_id(account: str) -> UUID:
    return uuid5(_NAMESPACE, f"billiards-player:{account}")


def check_username(username: str) -> str:
    """A Telegram username, without `@`, lower-cased (Telegram's are case-insensitive)."""
    name = username.strip().removeprefix("@").lower()
    if not _USERNAME.match(name):
        raise InvalidParameter("a Telegram username has 4 to 32 letters, digits or _")
    return name


class Player(Aggregate):
    class Registered(Aggregate.Created):
        account: str
        name: str
        share_code: str

    def __init__(self, account: str, name: str, share_code: str) -> None:
        self.account = account
        self.name = name
        self.share_code = share_code
        self.telegram_id: int | None = None
        self.username: str | None = None
        self.language = "ru"
        self.notices = list(NOTICE_KINDS)
        self.friends: set[str] = set()
        self.incoming: set[str] = set()
        self.outgoing: set[str] = set()
        self.blocked: set[str] = set()

    @classmethod
    def register(cls, *, account: str, name: str, share_code: str, now: datetime) -> Player:
        return cls._create(
            cls.Registered, id=player_id(account), timestamp=now, account=account,
            name=check_name(name), share_code=share_code,
        )

    def view(self) -> dict[str, Any]:
        return {
            "account": self.account, "name": self.name, "share_code": self.share_code,
            "username": self.username, "telegram": self.telegram_id is not None,
            "language": self.language, "notices": list(self.notices),
        }

    # -- the profile ------------------------------------------------------------------------------

    def update_profile(
        self, *, name: str, telegram_id: int | None, username: str | None, now: datetime
    ) -> None:
        """Telegram's id and username come from data Telegram signed, never from the client."""
        name = check_name(name)
        if telegram_id is None:
            telegram_id, username = self.telegram_id, self.username
        elif username:
            username = check_username(username)
        else:
            username = None
        if (name, telegram_id, username) != (self.name, self.telegram_id, self.username):
            self.trigger_event(
                self.ProfileUpdated, timestamp=now, name=name, telegram_id=telegram_id,
                username=username,
            )

    def set_preferences(self, *, language: str, notices: list[str], now: datetime) -> None:
        if language not in LANGUAGES:
            raise InvalidParameter(f"language is one of {', '.join(LANGUAGES)}")
        unknown = sorted(set(notices) - set(NOTICE_KINDS))
        if unknown:
            raise InvalidParameter(f"no such notification: {', '.join(unknown)}")
        chosen = [kind for kind in NOTICE_KINDS if kind in notices]
        if (language, chosen) != (self.language, self.notices):
            self.trigger_event(self.PreferencesSet, timestamp=now, language=language,
                               notices=chosen)

    # -- friends: each method decides one side; `Friends` pairs them --------------------------------

    def check_may_contact(self, other: Player) -> None:
        """`other` may send this player a request or an invitation."""
        if other.account == self.account:
            raise CannotFriendYourself("you cannot befriend or invite yourself")
        if other.account in self.blocked:
            raise BlockedByPlayer("this player blocked you")
        if self.account in other.blocked:
            raise YouBlocked("you blocked this player: unblock first")

    def request(self, other: Player, now: datetime) -> bool:
        """Ask `other` to be friends; accepts at once when `other` asked first. False when
        nothing changed (asked already)."""
        other.check_may_contact(self)
        if other.account in self.friends:
            raise AlreadyFriends("you are friends already")
        if other.account in self.incoming:
            self.accept(other, now)
            return True
        if other.account in self.outgoing:
            return False
        if len(self.friends) >= MAX_FRIENDS or len(other.friends) >= MAX_FRIENDS:
            raise TooManyFriends(f"a player has at most {MAX_FRIENDS} friends")
        self.trigger_event(self.RequestSent, timestamp=now, other=other.account)
        other.trigger_event(other.RequestReceived, timestamp=now, other=self.account,
                            name=self.name)
        return True

    def accept(self, other: Player, now: datetime) -> None:
        if other.account not in self.incoming:
            raise NoFriendRequest("this player has not asked you")
        self.trigger_event(self.FriendAdded, timestamp=now, other=other.account)
        other.trigger_event(other.FriendAdded, timestamp=now, other=self.account)

    def decline(self, other: Player, now: datetime) -> None:
        if other.account not in self.incoming:
            raise NoFriendRequest("this player has not asked you")
        self._drop_request(other, now)

    def cancel(self, other: Player, now: datetime) -> None:
        if other.account not in self.outgoing:
            raise NoFriendRequest("you have not asked this player")
        self._drop_request(other, now)

    def remove(self, other: Player, now: datetime) -> None:
        if other.account not in self.friends:
            raise NotFriends("you are not friends")
        self.trigger_event(self.FriendRemoved, timestamp=now, other=other.account)
        other.trigger_event(other.FriendRemoved, timestamp=now, other=self.account)

    def block(self, other: Player, now: datetime) -> None:
        if other.account == self.account:
            raise CannotFriendYourself("you cannot block yourself")
        if other.account in self.friends:
            self.remove(other, now)
        if other.account in self.incoming or other.account in self.outgoing:
            self._drop_request(other, now)
        if other.account not in self.blocked:
            self.trigger_event(self.PlayerBlocked, timestamp=now, other=other.account)

    def unblock(self, other_account: str, now: datetime) -> None:
        if other_account in self.blocked:
            self.trigger_event(self.PlayerUnblocked, timestamp=now, other=other_account)

    def invite(self, friend: Player, *, what: dict[str, Any], now: datetime) -> None:
        """Invite a friend to a match (`{"match_id", "invite"}`) or a queue (`{"club_id",
        "game"}`); the invitation is recorded on the friend's side, where it is notified."""
        friend.check_may_contact(self)
        if friend.account not in self.friends:
            raise NotFriends("you invite your friends only")
        friend.trigger_event(friend.Invited, timestamp=now, other=self.account, name=self.name,
                             what=dict(what))

    def _drop_request(self, other: Player, now: datetime) -> None:
        self.trigger_event(self.RequestDropped, timestamp=now, other=other.account)
        other.trigger_event(other.RequestDropped, timestamp=now, other=self.account)

    # -- events -----------------------------------------------------------------------------------

    class ProfileUpdated(Aggregate.Event):
        name: str
        telegram_id: int | None
        username: str | None

        def apply(self, player: Player) -> None:
            player.name = self.name
            player.telegram_id = self.telegram_id
            player.username = self.username

    class PreferencesSet(Aggregate.Event):
        language: str
        notices: list[str]

        def apply(self, player: Player) -> None:
            player.language = self.language
            player.notices = list(self.notices)

    class RequestSent(Aggregate.Event):
        other: str

        def apply(self, player: Player) -> None:
            player.outgoing.add(self.other)

    class RequestReceived(Aggregate.Event):
        other: str
        name: str

        def apply(self, player: Player) -> None:
            player.incoming.add(self.other)

    class RequestDropped(Aggregate.Event):
        """Declined, cancelled, or gone with a block."""

        other: str

        def apply(self, player: Player) -> None:
            player.incoming.discard(self.other)
            player.outgoing.discard(self.other)

    class FriendAdded(Aggregate.Event):
        other: str

        def apply(self, player: Player) -> None:
            player.incoming.discard(self.other)
            player.outgoing.discard(self.other)
            player.friends.add(self.other)

    class FriendRemoved(Aggregate.Event):
        other: str

        def apply(self, player: Player) -> None:
            player.friends.discard(self.other)

    class PlayerBlocked(Aggregate.Event):
        other: str

        def apply(self, player: Player) -> None:
            player.blocked.add(self.other)

    class PlayerUnblocked(Aggregate.Event):
        other: str

        def apply(self, player: Player) -> None:
            player.blocked.discard(self.other)

    class Invited(Aggregate.Event):
        """A friend (`other`) invited this player to a match or a queue."""

        other: str
        name: str
        what: dict[str, Any]

        def apply(self, player: Player) -> None:
            pass
