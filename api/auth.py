"""Who is calling: a bearer access token, or — only with `TESSERA_DEV_AUTH=1` — the development
headers. Spectators need nothing; players need a valid token; admins need the admin role."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any, Protocol, cast
from urllib.parse import urlparse
from uuid import UUID

import msgspec
from litestar import Request, WebSocket
from litestar.datastructures import State
from litestar.di import Provide

from api.errors import ApiError, close_socket
from commands.actor import Actor
from commands.text import Line
from infra.identity.refresh_sessions import Revocations
from infra.identity.tickets import TicketsUnavailable
from infra.identity.tokens import ACCESS, TICKET, Claims, InvalidToken, TokenIssuer
from infra.ratelimit import Limiter, RateLimited
from infra.settings import Settings

DEV_USER_HEADER = "x-dev-user"
DEV_ROLES_HEADER = "x-dev-roles"
_USER_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
FIRST_MESSAGE_TIMEOUT_S = 5.0


class Tickets(Protocol):
    """Which WebSocket tickets have opened a connection, on any node
    (`infra.identity.tickets.UsedTickets`)."""

    async def take(self, ticket_id: str) -> bool:
        """True the first time; `TicketsUnavailable` when that cannot be known."""


class Gate:
    """What authentication needs at run time (built by `create_app`)."""

    def __init__(
        self,
        settings: Settings,
        issuer: TokenIssuer,
        revocations: Revocations,
        account_limiter: Limiter,
        tickets: Tickets,
    ) -> None:
        self.settings = settings
        self.issuer = issuer
        self.revocations = revocations
        self.account_limiter = account_limiter
        self.tickets = tickets
        self.origins = frozenset(settings.split(settings.allowed_origins))

    def actor_from_token(self, token: str) -> Actor:
        return _actor(self._claims(token, ACCESS))

    async def actor_from_ticket(self, ticket: str) -> Actor:
        """The account a WebSocket ticket was issued to, the first time the ticket is shown to
        any node; after that the ticket is refused (`ticket_used`)."""
        claims = self._claims(ticket, TICKET)
        try:
            first = await self.tickets.take(claims.token_id)
        except TicketsUnavailable:
            raise ApiError("unavailable", "tickets cannot be checked now: try again") from None
        if not first:
            raise ApiError(
                "ticket_used", "this ticket has opened a connection already: ask for a new one"
            )
        return _actor(claims)

    def _claims(self, token: str, kind: str) -> Claims:
        try:
            claims = self.issuer.verify(token, kind=kind)
        except InvalidToken as error:
            raise ApiError("invalid_token", str(error)) from None
        if claims.session_id in self.revocations:
            raise ApiError("session_revoked", "this session was signed out")
        return claims

    def identify(self, headers: Any) -> Actor | None:
        authorization = headers.get("authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise ApiError("invalid_token", "use `Authorization: Bearer <access token>`")
            return self.actor_from_token(token.strip())
        if self.settings.dev_auth:
            return _dev_actor(headers)
        return None


def account_id(actor: Actor) -> UUID:
    """The signed-in account acting. A development identity (`X-Dev-User`) has none: 403."""
    if actor.session is None:
        raise ApiError(
            "account_required",
            f"{actor.user!r} is a development identity, with no account: sign in for one",
        )
    return UUID(actor.user)


def _actor(claims: Claims) -> Actor:
    return Actor(str(claims.account_id), is_admin=claims.is_admin, session=str(claims.session_id))


def _dev_actor(headers: Any) -> Actor | None:
    user = headers.get(DEV_USER_HEADER)
    if user is None:
        return None
    if not _USER_ID.match(user):
        raise ApiError("invalid_identity", "X-Dev-User is 1-64 of [A-Za-z0-9_.:@-]")
    roles = {r.strip() for r in headers.get(DEV_ROLES_HEADER, "").split(",")}
    return Actor(user, is_admin="admin" in roles)


def _gate(connection: Request[Any, Any, Any] | WebSocket[Any, Any, Any]) -> Gate:
    return gate_of(connection.app.state)


def gate_of(state: State) -> Gate:
    gate = state.gate
    assert isinstance(gate, Gate), "the identity context runs on API nodes only"
    return gate


# The providers are plain functions (wired with `sync_to_thread=False`): they never wait, and a
# synchronous dependency spares Litestar a task group per request.


def provide_viewer(request: Request[Any, Any, Any]) -> Actor | None:
    """Anyone: a spectator (None) or a signed-in account."""
    return _gate(request).identify(request.headers)


def provide_player(request: Request[Any, Any, Any]) -> Actor:
    return player_of(_gate(request), request.headers)


def player_of(gate: Gate, headers: Any) -> Actor:
    """The signed-in account the headers show, one command taken from its rate limit."""
    actor = gate.identify(headers)
    if actor is None:
        raise ApiError("unauthenticated", "sign in to play")
    try:
        gate.account_limiter.take(actor.user)
    except RateLimited as limited:
        raise ApiError("rate_limited", str(limited), wait_ms=limited.wait_ms) from None
    return actor


def provide_admin(request: Request[Any, Any, Any]) -> Actor:
    actor = provide_player(request)
    if not actor.is_admin:
        raise ApiError("forbidden", "this needs the admin role")
    return actor


class _AuthMessage(msgspec.Struct):
    type: Line
    token: Line


def payload_of(event: Any) -> str | bytes:
    """A received WebSocket message's payload, whether it came as a text or a binary frame."""
    return cast("str | bytes", event.get("text") or event.get("bytes") or b"")


def origin_allowed(socket: WebSocket[Any, Any, Any]) -> bool:
    origin = socket.headers.get("origin")
    if origin is None:
        return True  # not a browser: Origin is a browser's promise, not an authentication
    gate = _gate(socket)
    if origin in gate.origins:
        return True
    host = socket.headers.get("host", "")
    return urlparse(origin).netloc == host


def socket_actor(socket: WebSocket[Any, Any, Any], token: str) -> Actor:
    """The account an access token shown on an open socket belongs to (`ApiError` otherwise)."""
    return _gate(socket).actor_from_token(token)


async def authenticate_socket(socket: WebSocket[Any, Any, Any]) -> Actor | None:
    """After `accept()`: a ticket in the URL (`?ticket=`, 30 s, from POST /api/auth/ticket, one
    connection), or a first message `{"type": "auth", "token": <access token>}` within 5 s.
    Closes the socket with a reason (code 4401) and returns None when neither comes."""
    gate = _gate(socket)
    ticket = socket.query_params.get("ticket")
    try:
        if ticket:
            return await gate.actor_from_ticket(ticket)
        async with asyncio.timeout(FIRST_MESSAGE_TIMEOUT_S):
            event = await socket.receive()
        if event["type"] == "websocket.disconnect":
            return None
        message = msgspec.json.decode(payload_of(event), type=_AuthMessage, strict=True)
    except ApiError as error:
        await close_socket(socket, error.code)
        return None
    except (TimeoutError, msgspec.DecodeError, msgspec.ValidationError):
        await close_socket(socket, "auth_required")
        return None
    if message.type == "auth":
        try:
            return gate.actor_from_token(message.token)
        except ApiError as error:
            await close_socket(socket, error.code)
            return None
    with contextlib.suppress(Exception):
        await close_socket(socket, "auth_required")
    return None


AS_VIEWER = {"viewer": Provide(provide_viewer, sync_to_thread=False)}
"""Handler dependencies: `viewer: Actor | None`, None for a spectator."""
AS_PLAYER = {"player": Provide(provide_player, sync_to_thread=False)}
"""Handler dependencies: `player: Actor`, a signed-in account (401 otherwise, 429 when too fast)."""
AS_ADMIN = {"admin": Provide(provide_admin, sync_to_thread=False)}
"""Handler dependencies: `admin: Actor`, an account with the admin role (403 otherwise)."""
