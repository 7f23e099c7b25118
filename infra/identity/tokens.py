"""Access tokens: short-lived JWTs (HS256, a `kid` per key so keys can rotate), and WebSocket
tickets, which are access tokens of 30 seconds meant for one connection's URL (that they open
one connection only is `infra.identity.tickets`' part)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from uuid import UUID

import jwt
import msgspec

from infra.files import create_private_file, private_folder

ISSUER = "tessera"
ACCESS = "access"
TICKET = "ws"


class InvalidToken(Exception):
    code = "invalid_token"


class Claims(msgspec.Struct, frozen=True):
    account_id: UUID
    roles: tuple[str, ...]
    session_id: UUID
    expires_at: int
    token_id: str
    """The token's `jti`: a ticket is known by it once used."""

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class SigningKeys(msgspec.Struct, frozen=True):
    """Keys by `kid`; `current` signs, all verify (old ones stay until their tokens expire)."""

    current: str
    keys: Mapping[str, bytes]

    @classmethod
    def parse(cls, spec: str) -> SigningKeys:
        """`kid:base64url-secret,kid2:…`, the first one current."""
        keys: dict[str, bytes] = {}
        for part in spec.split(","):
            kid, _, secret = part.strip().partition(":")
            raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
            if not kid or len(raw) < 32:
                raise ValueError("each signing key needs a kid and at least 32 bytes of secret")
            keys[kid] = raw
        return cls(current=next(iter(keys)), keys=keys)

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKeys:
        """Development keys, generated once into the data folder: the file is 0600 and a folder
        made for it 0700 from the start. Nodes starting together keep the first one's keys."""
        if not path.exists():
            kid = f"dev-{secrets.token_hex(4)}"
            secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            private_folder(path.parent)
            create_private_file(path, json.dumps({"keys": f"{kid}:{secret}"}).encode())
        return cls.parse(json.loads(path.read_text())["keys"])


class TokenIssuer:
    def __init__(
        self, keys: SigningKeys, *, access_ttl_s: int = 900, ticket_ttl_s: int = 30,
        remember: int = 50_000,
    ) -> None:
        self._keys = keys
        self.access_ttl_s = access_ttl_s
        self.ticket_ttl_s = ticket_ttl_s
        # A client presents the same token for its whole life: remember the verified ones (until
        # they expire) so the request path pays a dictionary lookup, not an HMAC and two decodes.
        self._verified: OrderedDict[tuple[str, str], Claims] = OrderedDict()
        self._remember = remember

    def issue(
        self, *, account_id: UUID, roles: tuple[str, ...] | list[str], session_id: UUID,
        now: int, kind: str = ACCESS,
    ) -> str:
        ttl = self.access_ttl_s if kind == ACCESS else self.ticket_ttl_s
        payload = {
            "iss": ISSUER,
            "sub": str(account_id),
            "sid": str(session_id),
            "roles": list(roles),
            "typ": kind,
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(8),
        }
        return jwt.encode(
            payload, self._keys.keys[self._keys.current], algorithm="HS256",
            headers={"kid": self._keys.current},
        )

    def verify(self, token: str, *, kind: str = ACCESS) -> Claims:
        known = self._verified.get((kind, token))
        if known is not None and known.expires_at > time.time():
            return known
        claims = self._verify(token, kind)
        self._verified[(kind, token)] = claims
        if len(self._verified) > self._remember:
            self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str, kind: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.keys.get(header.get("kid", ""))
            if key is None:
                raise InvalidToken("unknown signing key")
            payload = jwt.decode(
                token, key, algorithms=["HS256"], issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "sid", "typ", "jti"]},
            )
            if payload["typ"] != kind:
                raise InvalidToken(f"not an {kind} token")
            return Claims(
                account_id=UUID(payload["sub"]),
                roles=tuple(payload.get("roles", ())),
                session_id=UUID(payload["sid"]),
                expires_at=int(payload["exp"]),
                token_id=str(payload["jti"]),
            )
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as error:
            raise InvalidToken(str(error) or "invalid token") from None
