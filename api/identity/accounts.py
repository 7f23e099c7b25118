"""Accounts over HTTP: your own (`/api/me`, its live socket) and the admins' view of all."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, WebSocket, delete, get, post, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath, JSONBody, Parameter

from api.auth import AS_ADMIN, AS_PLAYER, Gate, account_id, authenticate_socket, origin_allowed
from api.errors import ApiError, close_socket
from api.identity.controller import (
    BanRequest,
    GoogleSignIn,
    LinkedIdentities,
    RenameRequest,
    RoleRequest,
    SignedInAccount,
    TelegramSignIn,
    telegram_user,
)
from api.identity.parts import IdentityParts
from api.openapi import refusing
from commands.actor import Actor
from domain.account import AccountNotFound, IdentityTaken, LastIdentity, UnknownRole
from infra.identity.google import GoogleAuthError
from infra.identity.telegram import TelegramAuthError
from infra.identity.view import AccountOut


class MeController(Controller):
    path = "/api/me"
    tags = ("identity",)
    dependencies = AS_PLAYER
    opt = refusing("account_required", AccountNotFound)  # `account_id(player)`

    @get("/")
    async def me(
        self, player: NamedDependency[Actor], identity: NamedDependency[IdentityParts]
    ) -> AccountOut:
        return await _account(identity, account_id(player))

    @post("/name", status_code=200)
    async def rename(
        self,
        data: JSONBody[RenameRequest],
        player: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> SignedInAccount:
        account = await asyncio.to_thread(
            identity.accounts.rename, account_id(player), data.display_name
        )
        return SignedInAccount(
            account.id, account.display_name, list(account.roles), account.kind
        )

    @post("/identities/google", status_code=200, refuses=(GoogleAuthError, IdentityTaken))
    async def link_google(
        self,
        data: JSONBody[GoogleSignIn],
        player: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> LinkedIdentities:
        """Add a Google account as another way to sign in to this account."""
        user = await identity.google.verify(data.id_token)
        return await _link(identity, player, "google", user.sub)

    @post("/identities/telegram", status_code=200, refuses=(TelegramAuthError, IdentityTaken))
    async def link_telegram(
        self,
        data: JSONBody[TelegramSignIn],
        player: NamedDependency[Actor],
        identity: NamedDependency[IdentityParts],
    ) -> LinkedIdentities:
        """Add a Telegram account as another way to sign in to this account."""
        user = telegram_user(identity, data)
        return await _link(identity, player, "telegram", str(user.id))

    @delete("/identities/{provider:str}/{subject:str}", status_code=200, refuses=(LastIdentity,))
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
            account_id(player),
            provider=provider,
            subject=subject,
        )
        return LinkedIdentities(account.id, list(account.identities), account.kind)


async def _link(
    identity: IdentityParts, player: Actor, provider: str, subject: str
) -> LinkedIdentities:
    account = await asyncio.to_thread(
        identity.accounts.link_identity, account_id(player), provider=provider, subject=subject
    )
    return LinkedIdentities(account.id, list(account.identities), account.kind)


async def _account(identity: IdentityParts, account_id: UUID) -> AccountOut:
    account = await identity.view.find_account(account_id)
    if account is None:
        raise ApiError("account_not_found", f"no account {account_id} (yet)")
    return account


@websocket("/api/me/live")
async def me_live(socket: WebSocket[Any, Any, Any]) -> None:
    """The account's live channel: `{"type": "me", …}` once authenticated, then
    `{"type": "signed_out"}` and a close (4401) as soon as the session is revoked."""
    if not origin_allowed(socket):
        await close_socket(socket, "origin_not_allowed")
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
        await close_socket(socket, "session_revoked")

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
        return SignedInAccount(
            account.id, account.display_name, list(account.roles), account.kind
        )

    @delete("/{account_id:uuid}/roles/{role:str}", status_code=200, refuses=(UnknownRole,))
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
        return SignedInAccount(
            account.id, account.display_name, list(account.roles), account.kind
        )

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
    ended = await identity.sessions.end_all(account_id, identity.clock())
    identity.gate.revocations.add(*ended)
    return len(ended)
