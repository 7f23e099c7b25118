"""The accounts read model: one row per account, as admins and `/api/me` see it. Pure."""

from __future__ import annotations

from uuid import UUID

import msgspec

from projections.recorded import Recorded

_PREFIX = "domain.account:Account."


class AccountChange(msgspec.Struct, frozen=True):
    """One change to an account's row, in event order; the view turns it into SQL."""

    kind: str  # registered | linked | unlinked | renamed | granted | revoked | banned
    account_id: UUID
    version: int
    value: str = ""


class _Registered(msgspec.Struct):
    provider: str
    subject: str
    display_name: str


class _Identity(msgspec.Struct):
    provider: str
    subject: str


class _Renamed(msgspec.Struct):
    display_name: str


class _Role(msgspec.Struct):
    role: str


def _decoder(kind: type) -> msgspec.msgpack.Decoder:
    return msgspec.msgpack.Decoder(kind)


_registered, _identity, _renamed, _role = (
    _decoder(_Registered), _decoder(_Identity), _decoder(_Renamed), _decoder(_Role)
)


class AccountsProjection:
    name = "accounts"
    topics: tuple[str, ...] = tuple(
        _PREFIX + name for name in ("Registered", "IdentityLinked", "IdentityUnlinked", "Renamed",
                                    "RoleGranted", "RoleRevoked", "Banned")
    )

    def __init__(self) -> None:
        self.changes: list[AccountChange] = []

    def apply(self, event: Recorded) -> None:
        if not event.topic.startswith(_PREFIX):
            return  # identity claims are not shown
        value = ""
        match event.topic[len(_PREFIX):]:
            case "Registered":
                r = _registered.decode(event.state)
                self._add("registered", event, r.display_name)
                kind, value = "linked", f"{r.provider}:{r.subject}"
            case "IdentityLinked":
                i = _identity.decode(event.state)
                kind, value = "linked", f"{i.provider}:{i.subject}"
            case "IdentityUnlinked":
                i = _identity.decode(event.state)
                kind, value = "unlinked", f"{i.provider}:{i.subject}"
            case "Renamed":
                kind, value = "renamed", _renamed.decode(event.state).display_name
            case "RoleGranted":
                kind, value = "granted", _role.decode(event.state).role
            case "RoleRevoked":
                kind, value = "revoked", _role.decode(event.state).role
            case "Banned":
                kind = "banned"
            case _:
                return
        self._add(kind, event, value)

    def _add(self, kind: str, event: Recorded, value: str) -> None:
        self.changes.append(AccountChange(kind, event.originator_id, event.originator_version, value))

    def collect(self) -> list[AccountChange]:
        changes, self.changes = self.changes, []
        return changes
