"""Who is calling. Until sign-in lands, the only identity is the development header, and only
when `TESSERA_DEV_AUTH=1`; otherwise every command is refused as unauthenticated."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from api.errors import ApiError
from commands.canvases import Actor
from infra.settings import Settings

DEV_USER_HEADER = "x-dev-user"
DEV_ROLES_HEADER = "x-dev-roles"
_USER_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")


def identify(request: Request[Any, Any, Any]) -> Actor | None:
    settings: Settings = request.app.state.settings
    if not settings.dev_auth:
        return None
    user = request.headers.get(DEV_USER_HEADER)
    if user is None:
        return None
    if not _USER_ID.match(user):
        raise ApiError(400, "invalid_identity", "X-Dev-User is 1-64 of [A-Za-z0-9_.:@-]")
    roles = {r.strip() for r in request.headers.get(DEV_ROLES_HEADER, "").split(",")}
    return Actor(user, is_admin="admin" in roles)


async def provide_player(request: Request[Any, Any, Any]) -> Actor:
    actor = identify(request)
    if actor is None:
        raise ApiError(401, "unauthenticated", "sign in to play")
    return actor


async def provide_admin(request: Request[Any, Any, Any]) -> Actor:
    actor = await provide_player(request)
    if not actor.is_admin:
        raise ApiError(403, "forbidden", "this needs the admin role")
    return actor
