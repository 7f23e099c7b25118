"""Guest sign-in: play under a nickname without Google or Telegram.

A guest is an account of kind `guest` (its one identity is `guest:<its own id>`): it stays
signed in through its refresh tokens, and linking Google or Telegram (`/api/me/identities/…`)
keeps the account, its name and its pixels. Each client address may create a few an hour;
the operator turns it off (`TESSERA_GUEST_SIGN_IN=off`), and by default it is on only when no
other provider is configured."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.errors import ApiError
from api.identity.controller import TokenPair, start_session
from api.identity.parts import IdentityParts
from commands.text import Line
from domain.account import InvalidName
from infra.ratelimit import Limiter
from infra.settings import Settings

MAX_NICKNAME = 32


class GuestSignIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[Line, msgspec.Meta(min_length=1, max_length=MAX_NICKNAME)]
    """The nickname others see on the pixels this guest paints."""


def guest_sign_in_on(settings: Settings) -> bool:
    """Whether guests may sign in here: as the operator says, or (`auto`) when no other
    provider is configured."""
    match settings.identity.guest_sign_in:
        case "on":
            return True
        case "off":
            return False
    other = settings.split(settings.google.client_ids) or settings.telegram.bot_token
    return not other


def guest_limiter(settings: Settings) -> Limiter:
    """Guest accounts per client address: a burst of the hour's allowance, then evenly."""
    per_hour = settings.identity.guest_accounts_per_ip_hour
    return Limiter(per_hour / 3600, max(per_hour, 1))


@post(
    "/api/auth/guest", status_code=200, tags=["identity"], refuses=("guest_sign_in_off", InvalidName)
)
async def guest_sign_in(
    data: JSONBody[GuestSignIn],
    request: Request[Any, Any, Any],
    identity: NamedDependency[IdentityParts],
) -> TokenPair:
    """Sign in as a new guest under a nickname → a token pair (`account.kind` is `guest`).
    `403 guest_sign_in_off` when this server does not take guests; `429 rate_limited` when
    this address made too many guests lately; `422 invalid_name` for a blank nickname."""
    if not guest_sign_in_on(identity.gate.settings):
        raise ApiError("guest_sign_in_off", "guest sign-in is turned off on this server")
    if not data.name.strip():  # refused before it costs the address one of its guests
        raise InvalidName("a nickname needs at least one visible character")
    identity.guests.take(request.client.host if request.client else "unknown")
    account = await asyncio.to_thread(identity.accounts.register_guest, display_name=data.name)
    return await start_session(identity, account)
