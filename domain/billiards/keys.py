"""Client keys: a command sent again under its key is answered as the first time, not applied
again; the same key with another command is refused."""

from __future__ import annotations

from typing import Any, NamedTuple

from domain.billiards.errors import InvalidMatch, KeyReused

KEY_WINDOW = 64
"""Keys remembered per match."""


class Outcome(NamedTuple):
    version: int
    replayed: bool = False


class ClientKeys:
    def __init__(self) -> None:
        self.known: dict[str, list[Any]] = {}

    def replayed(self, key: str, kind: str, payload: dict[str, Any]) -> Outcome | None:
        if not 1 <= len(key) <= 64:
            raise InvalidMatch("a key has 1 to 64 characters")
        known = self.known.get(key)
        if known is None:
            return None
        if known[0] != kind or known[2] != payload:
            raise KeyReused(f"key {key!r} was used for another {known[0]}")
        return Outcome(int(known[1]), replayed=True)

    def remember(self, key: str, kind: str, payload: dict[str, Any], version: int) -> None:
        self.known[key] = [kind, version, payload]
        while len(self.known) > KEY_WINDOW:
            del self.known[next(iter(self.known))]
