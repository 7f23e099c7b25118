"""Who may find a desk by its name: this browser (a random key in an HttpOnly cookie, given out
on its first desk request) and the signed-in account, if any. Only hashes of them go further."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any, NamedTuple

from litestar import Request
from litestar.datastructures import Cookie

from commands.actor import Actor

COOKIE = "tessera_desk_key"
_KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")
_MAX_AGE_S = 400 * 24 * 3600  # the longest a browser keeps a cookie


class Openers(NamedTuple):
    ids: list[str]
    """Opaque identities: `browser:<sha256 of the key>`, `account:<id>`."""
    cookie: Cookie | None
    """The browser's new key, to set, when it came without a valid one."""


def openers_of(request: Request[Any, Any, Any], viewer: Actor | None) -> Openers:
    key = request.cookies.get(COOKIE)
    cookie = None
    if key is None or not _KEY.fullmatch(key):
        key = secrets.token_urlsafe(32)
        cookie = Cookie(
            key=COOKIE,
            value=key,
            max_age=_MAX_AGE_S,
            path="/api/desk",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    ids = [f"browser:{hashlib.sha256(key.encode()).hexdigest()}"]
    if viewer is not None:
        ids.append(f"account:{viewer.user}")
    return Openers(ids, cookie)
