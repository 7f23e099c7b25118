"""What the identity handlers receive: its running parts, as the dependency `identity`."""

from __future__ import annotations

from dataclasses import dataclass

from api.auth import Gate
from api.node import parts_provider
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


provide_identity = parts_provider(NAME, IdentityParts)
