"""What the identity handlers receive: its running parts, as the dependency `identity`."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State

from api.auth import Gate
from commands.identity.accounts import Accounts
from infra.identity.google import GoogleVerifier
from infra.identity.refresh_sessions import RefreshSessions
from infra.identity.view import AccountView

NAME = "identity"


@dataclass
class IdentityParts:
    accounts: Accounts
    sessions: RefreshSessions
    view: AccountView
    google: GoogleVerifier
    gate: Gate


def provide_identity(state: State) -> IdentityParts:
    parts = state[NAME]
    assert isinstance(parts, IdentityParts), "the identity context runs on API nodes only"
    return parts
