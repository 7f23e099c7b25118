"""The web app over in-memory parts: `create_app(settings, node=…)` with a node whose contexts'
parts are built from fakes (`tests.support.fakes`). No PostgreSQL, no NATS."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import httpx

from api.app import create_app
from api.auth import Gate
from api.contexts import all_contexts
from api.identity.parts import IdentityParts
from api.node import Node
from commands.clock import utc_now
from commands.identity.accounts import Accounts
from infra.identity.google import GoogleVerifier
from infra.identity.refresh_sessions import Revocations
from infra.identity.tickets import UsedTickets
from infra.identity.tokens import SigningKeys, TokenIssuer
from infra.ratelimit import Limiter
from infra.settings import Settings
from tests.support.fakes import IN_MEMORY, InMemoryAccountView, InMemoryKeyValue, InMemorySessions
from tests.support.settings import overridden

JWT_KEYS = "unit-1:" + base64.urlsafe_b64encode(b"u" * 32).decode().rstrip("=")


def unit_settings(**overrides: object) -> Settings:
    """Dev headers trusted, no per-IP limit, a fixed signing key (nothing read from disk)."""
    settings = overridden(Settings(dev_auth=True, rate_ip_per_s=0), identity={"jwt_keys": JWT_KEYS})
    return overridden(settings, **overrides)


def identity_parts(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> IdentityParts:
    """The identity context as `IdentityContext.start` builds it, over fakes."""
    sessions = InMemorySessions(grace=timedelta(seconds=settings.identity.refresh_grace_s))
    admins = settings.split(settings.identity.admin_identities)
    keys = SigningKeys.parse(settings.identity.jwt_keys or JWT_KEYS)
    return IdentityParts(
        accounts=Accounts(IN_MEMORY, admin_identities=admins),
        sessions=sessions,
        view=InMemoryAccountView(),
        google=GoogleVerifier(jwks_url=settings.google.jwks_url, client_ids=[]),
        gate=Gate(
            settings,
            TokenIssuer(keys, access_ttl_s=settings.identity.access_ttl_s),
            Revocations(sessions, window=timedelta(seconds=settings.identity.access_ttl_s + 60)),
            Limiter(settings.identity.rate_account_per_s, settings.identity.rate_account_burst),
            UsedTickets(InMemoryKeyValue("tickets")),
        ),
        clock=clock,
    )


def a_node(**parts: object) -> Node:
    """A node running the contexts named, with these parts. It has no spine: `create_app` never
    touches the spine of a node it is given."""
    contexts = [context for context in all_contexts() if context.name in parts]
    return Node(None, contexts, parts=dict(parts))


@contextlib.asynccontextmanager
async def http_to(settings: Settings, node: Node) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, node=node))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        yield http
