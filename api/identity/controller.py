"""Sign-in, tokens and accounts over HTTP (and the account's live socket)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, WebSocket, delete, get, post, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath, JSONBody, Parameter

from api.auth import AS_ADMIN, AS_PLAYER, AS_VIEWER, Gate, authenticate_socket, origin_allowed
from api.errors import ApiError
from api.identity.parts import IdentityParts
from commands.actor import Actor
from commands.clock import utc_now
from domain.account import Account
from infra.identity.refresh_sessions import RefreshTokenReused
from infra.identity.telegram import (
    TelegramAuthError,
    TelegramUser,
    verify_init_data,
    verify_login_widget,
)
from infra.identity.tokens import TICKET
from infra.identity.view import AccountOut

Token = Annotated[str, msgspec.Meta(min_length=16, max_length=4096)]


class GoogleSignIn(msgspec.Struct, forbid_unknown_fields=True):
    id_token: Token


class TelegramWidget(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    auth_date: int
    hash: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{64}$")]
    first_name: str = ""
    last_name: str = ""
    username: str = ""
    photo_url: str = ""


class TelegramSignIn(msgspec.Struct, forbid_unknown_fields=True):
    init_data: Annotated[str, msgspec.Meta(max_length=8192)] | None = None
    """A Mini App's `Telegram.WebApp.initData`, as is."""
    widget: TelegramWidget | None = None
    """The Login Widget's callback fields."""


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Token


class RoleRequest(msgspec.Struct, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(max_length=32)]


class BanRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class RenameRequest(msgspec.Struct, forbid_unknown_fields=True):
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class SignedInAccount(msgspec.Struct):
    id: UUID
    display_name: str
    roles: list[str]


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
        settings.refresh_ttl_s,
        SignedInAccount(account.id, account.display_name, list(account.roles)),
    )


async def _sign_in(identity: IdentityParts, provider: str, subject: str, name: str) -> TokenPair:
    account = await asyncio.to_thread(
        identity.accounts.sign_in, provider=provider, subject=subject, display_name=name
    )
    session = await identity.sessions.start(account.id, utc_now())
    return _pair(identity, account, session.session_id, session.refresh_token)


def _telegram_user(identity: IdentityParts, data: TelegramSignIn) -> TelegramUser:
    """The Telegram user the request's Mini App or Login Widget data was signed for."""
    settings = identity.gate.settings
    if not settings.telegram_bot_token:
        raise TelegramAuthError("Telegram sign-in is not configured (TESSERA_TELEGRAM_BOT_TOKEN)")
    now = int(time.time())
    if (data.init_data is None) == (data.widget is None):
        raise ApiError(400, "invalid_request", "send exactly one of init_data and widget")
    if data.init_data is not None:
        user = verify_init_data(
            data.init_data,
            settings.telegram_bot_token,
            max_age_s=settings.telegram_auth_max_age_s,
            now=now,
        )
    else:
        assert data.widget is not None
        fields = {k: v for k, v in msgspec.structs.asdict(data.widget).items() if v != ""}
        user = verify_login_widget(
            fields,
            settings.telegram_bot_token,
            max_age_s=settings.telegram_auth_max_age_s,
            now=now,
        )
    return user


class AuthController(Controller):
    path = "/api/auth"
    tags = ("identity",)

    @post("/google", status_code=200)
    async def google(
        self, data: JSONBody[GoogleSignIn], identity: NamedDependency[IdentityParts]
    ) -> TokenPair:
        """Sign in with a Google ID token (from Google Identity Services)."""
        user = await identity.google.verify(data.id_token)
        return await _sign_in(identity, "google", user.sub, user.name)

    @post("/telegram", status_code=200)
    async def telegram(
        self, data: JSONBody[TelegramSignIn], identity: NamedDependency[IdentityParts]
    ) -> TokenPair:
        """Sign in from the Telegram Mini App (`init_data`) or the Login Widget (`widget`)."""
        user = _telegram_user(identity, data)
        return await _sign_in(identity, "telegram", str(user.id), user.display_name)

    @post("/refresh", status_code=200)
    async def refresh(
        self, data: JSONBody[RefreshRequest], identity: NamedDependency[IdentityParts]
    ) -> TokenPair:
        """Trade a refresh token for a new pair. Each refresh token works once: presenting a used
        one again (after a 5 s grace) signs the whole session out."""
        try:
            rotation = await identity.sessions.rotate(data.refresh_token, utc_now())
        except RefreshTokenReused as reused:
            identity.gate.revocations.add(reused.session_id)  # this node at once, others in 2 s
            raise
        account = await asyncio.to_thread(identity.accounts.get_account, rotation.account_id)
        if account.banned:
            await identity.sessions.end_all(account.id, utc_now())
        account.check_can_sign_in()
        return _pair(identity, account, rotation.session_id, rotation.refresh_token)

    @post("/logout", status_code=204)
    async def logout(
        self, data: JSONBody[RefreshRequest], identity: NamedDependency[IdentityParts]
    ) -> None:
        """Sign this session out: its refresh tokens and access tokens stop working."""
        session_id = await identity.sessions.end(data.refresh_token, utc_now())
        if session_id is not None:
            identity.gate.revocations.add(session_id)

    @post("/ticket", status_code=200, dependencies=AS_PLAYER)
    async def ticket(
        self, player: NamedDependency[Actor], identity: NamedDependency[IdentityParts]
    ) -> Ticket:
        """A 30-second token to open a WebSocket with (`?ticket=`): browsers cannot send headers
        on WebSockets, and a long-lived token never goes into a URL."""
        if player.session is None:
            raise ApiError(403, "forbidden", "tickets are for signed-in accounts")
        issuer = identity.gate.issuer
        account = await asyncio.to_thread(identity.accounts.get_account, UUID(player.user))
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


class MeController(Controller):
    path = "/api/me"
    tags = ("identity",)
    dependencies = AS_PLAYER

    @get("/")
    async def me(
        self, player: NamedDependency[Actor], identity: NamedDependency[IdentityParts]
    ) -> AccountOut:
        return await _account(identity, UUID(player.user))

    @post("/name", status_code=200)
    async def rename(
        self,
        data: JSONBody[RenameRequest],
        player: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> SignedInAccount:
        account = await asyncio.to_thread(
            identity.accounts.rename, UUID(player.user), data.display_name
        )
        return SignedInAccount(account.id, account.display_name, list(account.roles))

    @post("/identities/google", status_code=200)
    async def link_google(
        self,
        data: JSONBody[GoogleSignIn],
        player: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> LinkedIdentities:
        """Add a Google account as another way to sign in to this account."""
        user = await identity.google.verify(data.id_token)
        return await _link(identity, player, "google", user.sub)

    @post("/identities/telegram", status_code=200)
    async def link_telegram(
        self,
        data: JSONBody[TelegramSignIn],
        player: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> LinkedIdentities:
        """Add a Telegram account as another way to sign in to this account."""
        user = _telegram_user(identity, data)
        return await _link(identity, player, "telegram", str(user.id))

    @delete("/identities/{provider:str}/{subject:str}", status_code=200)
    async def unlink(
        self,
        provider: FromPath[str],
        subject: FromPath[str],
        player: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> LinkedIdentities:
        """Remove a way to sign in (never the last one)."""
        account = await asyncio.to_thread(
            identity.accounts.unlink_identity,
            UUID(player.user),
            provider=provider,
            subject=subject,
        )
        return LinkedIdentities(account.id, list(account.identities))


async def _link(
    identity: IdentityParts, player: Actor, provider: str, subject: str
) -> LinkedIdentities:
    account = await asyncio.to_thread(
        identity.accounts.link_identity, UUID(player.user), provider=provider, subject=subject
    )
    return LinkedIdentities(account.id, list(account.identities))


async def _account(identity: IdentityParts, account_id: UUID) -> AccountOut:
    account = await identity.view.get_account(account_id)
    if account is None:
        raise ApiError(404, "account_not_found", f"no account {account_id} (yet)")
    return account


@websocket("/api/me/live")
async def me_live(socket: WebSocket[Any, Any, Any]) -> None:
    """The account's live channel: `{"type": "me", …}` once authenticated, then
    `{"type": "signed_out"}` and a close (4401) as soon as the session is revoked."""
    if not origin_allowed(socket):
        await socket.close(code=4403, reason="origin_not_allowed")
        return
    await socket.accept()
    actor = await authenticate_socket(socket)
    if actor is None:
        return
    gate: Gate = socket.app.state.gate
    await socket.send_json({"type": "me", "id": actor.user, "admin": actor.is_admin})
    session = UUID(actor.session) if actor.session else None

    async def until_revoked() -> None:
        while session is None or session not in gate.revocations:
            await asyncio.sleep(1.0)
        await socket.send_json({"type": "signed_out"})
        await socket.close(code=4401, reason="session_revoked")

    async def until_gone() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.receive_data(mode="text")  # nothing is expected from the client

    tasks = [asyncio.create_task(until_revoked()), asyncio.create_task(until_gone())]
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()


class AdminAccountsController(Controller):
    path = "/api/admin/accounts"
    tags = ("admin",)
    dependencies = AS_ADMIN

    @get("/")
    async def list_accounts(
        self,
        admin: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
        after: Annotated[UUID | None, Parameter(description="page after this id")] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> list[AccountOut]:
        return await identity.view.list_accounts(limit=limit, after=after)

    @post("/{account_id:uuid}/roles", status_code=200)
    async def grant_role(
        self,
        account_id: FromPath[UUID],
        data: JSONBody[RoleRequest],
        admin: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> SignedInAccount:
        account = await asyncio.to_thread(
            identity.accounts.grant_role, account_id, data.role, by=admin.user
        )
        return SignedInAccount(account.id, account.display_name, list(account.roles))

    @delete("/{account_id:uuid}/roles/{role:str}", status_code=200)
    async def revoke_role(
        self,
        account_id: FromPath[UUID],
        role: FromPath[str],
        admin: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> SignedInAccount:
        """Revoke a role; the account's sessions end so that no token keeps it."""
        account = await asyncio.to_thread(
            identity.accounts.revoke_role, account_id, role, by=admin.user
        )
        await _end_sessions(identity, account_id)
        return SignedInAccount(account.id, account.display_name, list(account.roles))

    @post("/{account_id:uuid}/sessions/revoke", status_code=200)
    async def revoke_sessions(
        self,
        account_id: FromPath[UUID],
        admin: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> dict[str, int]:
        """Sign the account out everywhere."""
        return {"revoked": await _end_sessions(identity, account_id)}

    @post("/{account_id:uuid}/ban", status_code=200)
    async def ban(
        self,
        account_id: FromPath[UUID],
        data: JSONBody[BanRequest],
        admin: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> dict[str, int]:
        await asyncio.to_thread(
            identity.accounts.ban, account_id, reason=data.reason, by=admin.user
        )
        return {"revoked": await _end_sessions(identity, account_id)}


async def _end_sessions(identity: IdentityParts, account_id: UUID) -> int:
    ended = await identity.sessions.end_all(account_id, utc_now())
    identity.gate.revocations.add(*ended)
    return len(ended)
