"""Desk session keys: proof that a client id was handed out by this service for this desk.

`/api/desk/init` gives a fresh `client_id` with `session_key = HMAC-SHA256(k, "<desk>:<client>")`;
an op over HTTP (`X-Desk-Session`) and a socket's `hello` must present it, so nobody can write
under another client's id (its sequence, its acknowledgements, its collisions). The keys `k` are
derived from the service's signing keys (every node shares them): the current one issues, all of
them verify, so a rotation does not strand the outboxes of offline clients.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from uuid import UUID

from infra.identity.tokens import SigningKeys

_PURPOSE = b"tessera desk session key v1"
KEY_BYTES = 16
"""128 bits of the HMAC are kept: 22 characters on the wire."""


def new_client_id() -> str:
    """Short (it is in every stamp and op frame) and random (64 bits)."""
    return secrets.token_urlsafe(8)


class DeskSessionKeys:
    def __init__(self, secrets_: list[bytes]) -> None:
        if not secrets_:
            raise ValueError("at least one secret")
        self._keys = [hmac.new(secret, _PURPOSE, hashlib.sha256).digest() for secret in secrets_]

    @classmethod
    def derive(cls, keys: SigningKeys) -> DeskSessionKeys:
        current = keys.keys[keys.current]
        return cls([current, *(key for key in keys.keys.values() if key != current)])

    def issue(self, desk_id: UUID, client_id: str) -> str:
        return self._sign(self._keys[0], desk_id, client_id)

    def valid(self, desk_id: UUID, client_id: str, session_key: str | None) -> bool:
        if not session_key:
            return False
        given = session_key.encode()
        return any(
            hmac.compare_digest(self._sign(key, desk_id, client_id).encode(), given)
            for key in self._keys
        )

    @staticmethod
    def _sign(key: bytes, desk_id: UUID, client_id: str) -> str:
        mac = hmac.new(key, f"{desk_id.hex}:{client_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:KEY_BYTES]).rstrip(b"=").decode()
