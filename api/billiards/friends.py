"""A player's profile, notification settings and friends, under `/api/billiards/me` and
`/api/billiards/friends`. Players find each other by a share link's code or a Telegram username
(recorded from data Telegram signed, when the Mini App opens the profile)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from api.auth import AS_PLAYER
from api.billiards.social_parts import SocialParts, provide_social
from api.openapi import refusing
from commands.actor import Actor
from commands.billiards.social_wire import FindPlayer, Invite, SetPreferences, SetProfile
from domain.billiards import errors
from domain.billiards.player import Player
from infra.identity.telegram import TelegramAuthError, verify_init_data

SOCIAL = {"social": Provide(provide_social, sync_to_thread=False)}
_AS_PLAYER_SOCIAL = {**SOCIAL, **AS_PLAYER}


def _me(player: Player) -> dict[str, Any]:
    return player.view()


class MeController(Controller):
    path = "/api/billiards/me"
    tags = ("billiards",)
    dependencies = SOCIAL

    @get("/", dependencies=AS_PLAYER, refuses=(errors.NoProfile,))
    async def get_profile(
        self, player: NamedDependency[Actor], social: NamedDependency[SocialParts]
    ) -> dict[str, Any]:
        """The caller's profile, share code and notification settings."""
        found = await asyncio.to_thread(social.social.get_player, player.user, me=True)
        return _me(found)

    @put("/", dependencies=AS_PLAYER, refuses=(TelegramAuthError, errors.InvalidParameter,
                                               errors.InvalidMatch))
    async def set_profile(
        self, data: JSONBody[SetProfile], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """Create or update the caller's profile; with Telegram's `init_data`, his Telegram id
        (where notifications go) and username (how friends find him)."""
        telegram_id, username = None, None
        if data.init_data is not None:
            if not social.telegram_bot_token:
                raise TelegramAuthError("Telegram is not configured on this server")
            user = verify_init_data(data.init_data, social.telegram_bot_token,
                                    max_age_s=social.telegram_max_age_s, now=int(time.time()))
            telegram_id, username = user.id, user.username or None
        saved = await asyncio.to_thread(
            social.social.set_profile, player.user, name=data.name, telegram_id=telegram_id,
            username=username,
        )
        return _me(saved)

    @put("/settings", dependencies=AS_PLAYER, refuses=(errors.NoProfile,
                                                       errors.InvalidParameter))
    async def set_settings(
        self, data: JSONBody[SetPreferences], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """Language and which notifications the caller gets (`table_ready`, `match_invite`,
        `friend_request`, `match_result`, `weekly`)."""
        saved = await asyncio.to_thread(social.social.set_preferences, player.user, data)
        return _me(saved)

    @get("/notices", dependencies=AS_PLAYER)
    async def list_notices(
        self, player: NamedDependency[Actor], social: NamedDependency[SocialParts]
    ) -> list[dict[str, Any]]:
        """The caller's latest notifications and what became of each (sent, dropped: why)."""
        return await social.outbox.list_notices(player.user)


async def _find(social: SocialParts, data: FindPlayer) -> dict[str, Any]:
    given = [v for v in (data.account, data.code, data.username) if v is not None]
    if len(given) != 1:
        raise errors.InvalidParameter("give one of account, code, username")
    if data.account is not None:  # the aggregate: a player just registered is found at once
        player = await asyncio.to_thread(social.social.get_player, data.account)
        return {"account": player.account, "name": player.name, "username": player.username}
    found = await social.view.find_player(code=data.code, username=data.username)
    if found is None:
        raise errors.PlayerNotFound("no player has that link or username")
    return found


class FriendController(Controller):
    path = "/api/billiards/friends"
    tags = ("billiards",)
    dependencies = _AS_PLAYER_SOCIAL
    opt = refusing(errors.NoProfile, errors.PlayerNotFound)

    @get("/")
    async def list_friends(
        self, player: NamedDependency[Actor], social: NamedDependency[SocialParts]
    ) -> list[dict[str, Any]]:
        """Friends, requests either way (`incoming`, `outgoing`) and blocked players."""
        return await social.view.list_friends(player.user)

    @get("/leaderboard")
    async def leaderboard(
        self, player: NamedDependency[Actor], social: NamedDependency[SocialParts]
    ) -> dict[str, Any]:
        """The caller and his friends, ranked, then those not rated yet."""
        friends = [f for f in await social.view.list_friends(player.user)
                   if f["state"] == "friend"]
        return await social.standings([{"account": player.user}, *friends])

    @post("/find", status_code=200, refuses=(errors.InvalidParameter,))
    async def find_player(
        self, data: JSONBody[FindPlayer], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """A player by share code, Telegram username or account."""
        return await _find(social, data)

    @post("/requests", status_code=200, refuses=(
        errors.InvalidParameter, errors.CannotFriendYourself, errors.BlockedByPlayer,
        errors.YouBlocked, errors.AlreadyFriends, errors.TooManyFriends, errors.NoFriendRequest))
    async def request_friend(
        self, data: JSONBody[FindPlayer], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """Ask a player (found by account, share code or username) to be friends; accepted at
        once when he asked first."""
        other = await _find(social, data)
        saved = await asyncio.to_thread(social.social.request_friend, player.user,
                                        other["account"])
        state = "friend" if other["account"] in saved.friends else "outgoing"
        return {**other, "state": state}

    async def _pair(self, social: SocialParts, method: str, me: str, other: str) -> None:
        await asyncio.to_thread(getattr(social.social, method), me, other)

    @post("/{account:str}/accept", status_code=204, refuses=(
        errors.NoFriendRequest, errors.CannotFriendYourself))
    async def accept(self, account: FromPath[str], player: NamedDependency[Actor],
                     social: NamedDependency[SocialParts]) -> None:
        await self._pair(social, "accept_friend", player.user, account)

    @post("/{account:str}/decline", status_code=204, refuses=(errors.NoFriendRequest,))
    async def decline(self, account: FromPath[str], player: NamedDependency[Actor],
                      social: NamedDependency[SocialParts]) -> None:
        await self._pair(social, "decline_friend", player.user, account)

    @post("/{account:str}/cancel", status_code=204, refuses=(errors.NoFriendRequest,))
    async def cancel(self, account: FromPath[str], player: NamedDependency[Actor],
                     social: NamedDependency[SocialParts]) -> None:
        """Take back one's own request."""
        await self._pair(social, "cancel_request", player.user, account)

    @delete("/{account:str}", status_code=204, refuses=(errors.NotFriends,))
    async def remove(self, account: FromPath[str], player: NamedDependency[Actor],
                     social: NamedDependency[SocialParts]) -> None:
        await self._pair(social, "remove_friend", player.user, account)

    @post("/{account:str}/block", status_code=204, refuses=(errors.CannotFriendYourself,))
    async def block(self, account: FromPath[str], player: NamedDependency[Actor],
                    social: NamedDependency[SocialParts]) -> None:
        """No more requests or invitations from that player; a friendship or request ends."""
        await self._pair(social, "block", player.user, account)

    @delete("/{account:str}/block", status_code=204)
    async def unblock(self, account: FromPath[str], player: NamedDependency[Actor],
                      social: NamedDependency[SocialParts]) -> None:
        await self._pair(social, "unblock", player.user, account)

    @post("/invitations", status_code=204, refuses=(
        errors.NotFriends, errors.BlockedByPlayer, errors.YouBlocked,
        errors.CannotFriendYourself, errors.InvalidParameter, errors.WrongInvite,
        errors.MatchNotFound, errors.ClubNotFound, errors.InvalidQueue))
    async def invite(self, data: JSONBody[Invite], player: NamedDependency[Actor],
                     social: NamedDependency[SocialParts]) -> None:
        """Invite a friend to a match (with its invite) or a club's queue: he is notified."""
        await asyncio.to_thread(social.social.invite, player.user, data)
