"""Verifying Google ID tokens: RS256 against Google's published keys, audience, issuer, expiry and
a verified e-mail. The key set is fetched off the event loop, cached for as long as Google's
`Cache-Control` allows, and the last good set is kept when a fetch fails.

Not `jwt.PyJWKClient`: once its fixed lifespan is over it fails while Google is unreachable
instead of keeping the last good set (in PyJWT 2.10 a failed fetch even empties its cache), and
after a failure it fetches again on every call rather than waiting a while."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

import jwt
import msgspec

log = logging.getLogger(__name__)

ISSUERS = ("accounts.google.com", "https://accounts.google.com")
_MAX_AGE = re.compile(r"max-age=(\d+)")


class GoogleAuthError(Exception):
    code = "invalid_google_token"


class GoogleUser(msgspec.Struct, frozen=True):
    sub: str
    email: str
    name: str


def fetch_json(url: str, timeout: float = 5.0) -> tuple[dict[str, Any], float]:
    """GET a JSON document; returns it with its freshness lifetime in seconds."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = json.loads(response.read())
        match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
    return body, float(match.group(1)) if match else 3600.0


class GoogleVerifier:
    def __init__(
        self,
        *,
        jwks_url: str,
        client_ids: Sequence[str],
        fetch: Callable[[str], tuple[dict[str, Any], float]] = fetch_json,
        refetch_after_failure_s: float = 30.0,
    ) -> None:
        self._jwks_url = jwks_url
        self._client_ids = list(client_ids)
        self._fetch = fetch
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fresh_until = 0.0
        self._fetched_at = -1e9
        self._retry_after_failure_s = refetch_after_failure_s
        self._lock = asyncio.Lock()

    async def verify(self, id_token: str) -> GoogleUser:
        if not self._client_ids:
            raise GoogleAuthError("Google sign-in is not configured (TESSERA_GOOGLE_CLIENT_IDS)")
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
        except jwt.PyJWTError:
            raise GoogleAuthError("not a JWT") from None
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256"],
                audience=self._client_ids,
                issuer=ISSUERS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise GoogleAuthError(str(error)) from None
        if claims.get("email_verified") not in (True, "true"):
            raise GoogleAuthError("the Google account's e-mail is not verified")
        email = str(claims.get("email", ""))
        return GoogleUser(sub=str(claims["sub"]), email=email,
                          name=str(claims.get("name") or email.split("@")[0]))

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        # An unknown kid may be a key Google just rotated in, but is refetched at most once per
        # `refetch_after_failure_s`: forged kids must not turn into a flood of fetches.
        now = time.monotonic()
        unknown = kid not in self._keys and now - self._fetched_at >= self._retry_after_failure_s
        if now >= self._fresh_until or unknown:
            await self._refresh(force=unknown)
        key = self._keys.get(kid or "")
        if key is None:
            raise GoogleAuthError("the token is signed with a key Google does not publish")
        return key

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            if time.monotonic() < self._fresh_until and not force:
                return
            self._fetched_at = time.monotonic()
            try:
                document, lifetime = await asyncio.to_thread(self._fetch, self._jwks_url)
                keys = {
                    k.key_id: k for k in jwt.PyJWKSet.from_dict(document).keys
                    if k.key_id is not None
                }
            except (OSError, ValueError, jwt.PyJWTError) as error:  # keep the last good key set
                log.warning("could not fetch Google's keys (%s); keeping %d known keys",
                            type(error).__name__, len(self._keys))
                self._fresh_until = time.monotonic() + self._retry_after_failure_s
                return
            self._keys = keys
            self._fresh_until = time.monotonic() + lifetime
