"""Sign-in and tokens over HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.auth import AS_PLAYER, AS_VIEWER, account_id
from api.errors import ApiError
from api.identity.parts import IdentityParts
from commands.actor import Actor
from commands.text import Line
from domain.account import Account, AccountBanned, AccountNotFound
from infra.identity.google import GoogleAuthError
from infra.identity.refresh_sessions import RefreshTokenReused
from infra.identity.telegram import (
    TelegramAuthError,
    TelegramUser,
    verify_init_data,
    verify_login_widget,
)
from infra.identity.tokens import TICKET, InvalidToken

Token = Annotated[Line, msgspec.Meta(min_length=16, max_length=4096)]


class GoogleSignIn(msgspec.Struct, forbid_unknown_fields=True):
    id_token: Token


class TelegramWidget(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    auth_date: int
    hash: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{64}$")]
    first_name: Line = ""
    last_name: Line = ""
    username: Line = ""
    photo_url: Line = ""


class TelegramSignIn(msgspec.Struct, forbid_unknown_fields=True):
    init_data: Annotated[Line, msgspec.Meta(max_length=8192)] | None = None
    """A Mini App's `Telegram.WebApp.initData`, as is."""
    widget: TelegramWidget | None = None
    """The Login Widget's callback fields."""


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Token


class RoleRequest(msgspec.Struct, forbid_unknown_fields=True):
    role: Annotated[Line, msgspec.Meta(max_length=32)]


class BanRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[Line, msgspec.Meta(max_length=500)] = ""


class RenameRequest(msgspec.Struct, forbid_unknown_fields=True):
    display_name: Annotated[Line, msgspec.Meta(min_length=1, max_length=64)]


class SignedInAccount(msgspec.Struct):
    id: UUID
    display_name: str
    roles: list[str]
    kind: str = "member"
    """`guest` for a guest's account (`api/identity/guest.py`) until it links a provider."""


class TokenPair(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    account: SignedInAccount
    token_type: str = "Bearer"


class LinkedIdentities(msgspec.Struct):
    id: UUID
    identities: list[str]
    kind: str = "member"


class Ticket(msgspec.Struct):
    ticket: str
    expires_in: int


def _pair(
    identity: IdentityParts, account: Account, session_id: UUID, refresh_token: str
) -> TokenPair:
    issuer = identity.gate.issuer
    settings = identity.gate.settings
    access = issuer.issue(
        account_id=account.id, roles=account.roles, session_id=session_id, now=int(time.time())
    )
    return TokenPair(
        access,
        refresh_token,
        issuer.access_ttl_s,
        settings.identity.refresh_ttl_s,
        SignedInAccount(account.id, account.display_name, list(account.roles), account.kind),
    )


async def _sign_in(identity: IdentityParts, provider: str, subject: str, name: str) -> TokenPair:
    account = await asyncio.to_thread(
        identity.accounts.sign_in, provider=provider, subject=subject, display_name=name
    )
    return await start_session(identity, account)


async def start_session(identity: IdentityParts, account: Account) -> TokenPair:
    """A new sign-in session of the account, and its first token pair."""
    session = await identity.sessions.start(account.id, identity.clock())
    return _pair(identity, account, session.session_id, session.refresh_token)


def telegram_user(identity: IdentityParts, data: TelegramSignIn) -> TelegramUser:
    """The Telegram user the request's Mini App or Login Widget data was signed for."""
    settings = identity.gate.settings
    if not settings.telegram.bot_token:
        raise TelegramAuthError("Telegram sign-in is not configured (TESSERA_TELEGRAM_BOT_TOKEN)")
    now = int(time.time())
    if (data.init_data is None) == (data.widget is None):
        raise ApiError("invalid_sign_in", "send exactly one of init_data and widget")
    if data.init_data is not None:
        user = verify_init_data(
            data.init_data,
            settings.telegram.bot_token,
            max_age_s=settings.telegram.auth_max_age_s,
            now=now,
        )
    else:
        assert data.widget is not None
        fields = {k: v for k, v in msgspec.structs.asdict(data.widget).items() if v != ""}
        user = verify_login_widget(
            fields,
            settings.telegram.bot_token,
            max_age_s=settings.telegram.auth_max_age_s,
            now=now,
        )
    return user


class AuthController(Controller):
    path = "/api/auth"
    tags = ("identity",)

    @post("/google", status_code=200, refuses=(GoogleAuthError, AccountBanned))
    async def google(
        self, data: JSONBody[GoogleSignIn], identity: NamedDependency[IdentityParts]
    ) -> TokenPair:
        """Sign in with a Google ID token (from Google Identity Services)."""
        user = await identity.google.verify(data.id_token)
        return await _sign_in(identity, "google", user.sub, user.name)

    @post("/telegram", status_code=200, refuses=(TelegramAuthError, AccountBanned))
    async def telegram(
        self, data: JSONBody[TelegramSignIn], identity: NamedDependency[IdentityParts]
    ) -> TokenPair:
        """Sign in from the Telegram Mini App (`init_data`) or the Login Widget (`widget`)."""
        user = telegram_user(identity, data)
        return await _sign_in(identity, "telegram", str(user.id), user.display_name)

    @post("/refresh", status_code=200, refuses=(InvalidToken, AccountBanned, AccountNotFound))
    async def refresh(
        self, data: JSONBody[RefreshRequest], identity: NamedDependency[IdentityParts]
    ) -> TokenPair:
        """Trade a refresh token for a new pair. Each refresh token works once: presenting a used
        one again (after a 5 s grace) signs the whole session out."""
        try:
            rotation = await identity.sessions.rotate(data.refresh_token, identity.clock())
        except RefreshTokenReused as reused:
            identity.gate.revocations.add(reused.session_id)  # this node at once, others in 2 s
            raise
        account = await asyncio.to_thread(identity.accounts.get_account, rotation.account_id)
        if account.banned:
            await identity.sessions.end_all(account.id, identity.clock())
        account.check_can_sign_in()
        return _pair(identity, account, rotation.session_id, rotation.refresh_token)

    @post("/logout", status_code=204)
    async def logout(
        self, data: JSONBody[RefreshRequest], identity: NamedDependency[IdentityParts]
    ) -> None:
        """Sign this session out: its refresh tokens and access tokens stop working."""
        session_id = await identity.sessions.end(data.refresh_token, identity.clock())
        if session_id is not None:
            identity.gate.revocations.add(session_id)

    @post(
        "/ticket",
        status_code=200,
        dependencies=AS_PLAYER,
        refuses=("account_required", AccountNotFound),
    )
    async def ticket(
        self, player: NamedDependency[Actor], identity: NamedDependency[IdentityParts]
    ) -> Ticket:
        """A 30-second token to open one WebSocket connection with (`?ticket=`), on any node:
        browsers cannot send headers on WebSockets, and a long-lived token never goes into a
        URL."""
        issuer = identity.gate.issuer
        account = await asyncio.to_thread(identity.accounts.get_account, account_id(player))
        assert player.session is not None  # an account acts through a sign-in session
        ticket = issuer.issue(
            account_id=account.id,
            roles=account.roles,
            session_id=UUID(player.session),
            now=int(time.time()),
            kind=TICKET,
        )
        return Ticket(ticket, issuer.ticket_ttl_s)


class Whoami(msgspec.Struct):
    signed_in: bool
    account_id: str | None = None
    admin: bool = False


@get("/api/auth/whoami", dependencies=AS_VIEWER, tags=["identity"])
async def whoami(viewer: NamedDependency[Actor | None]) -> Whoami:
    """Who the presented access token says you are, checked but without a database read;
    anonymous callers are spectators."""
    if viewer is None:
        return Whoami(signed_in=False)
    return Whoami(signed_in=True, account_id=viewer.user, admin=viewer.is_admin)
