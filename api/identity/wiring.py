"""The identity context (accounts and sign-in): the one place that builds its parts. Its `Gate`
authenticates the requests of every context."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
from litestar import Router
from litestar.di import Provide

from api.auth import Gate
from api.identity.accounts import AdminAccountsController, MeController, me_live
from api.identity.controller import AuthController, whoami
from api.identity.guest import guest_limiter, guest_sign_in
from api.identity.parts import NAME, IdentityParts, provide_identity
from api.node import Projection, Spine
from commands.clock import utc_now
from commands.identity.accounts import Accounts
from infra.identity import refresh_sessions
from infra.identity import view as account_view
from infra.identity.google import GoogleVerifier
from infra.identity.refresh_sessions import RefreshSessions, Revocations
from infra.identity.tickets import UsedTickets
from infra.identity.tokens import SigningKeys, TokenIssuer
from infra.identity.view import AccountsReadModel, AccountView
from infra.ratelimit import Limiter
from infra.settings import Settings
from infra.spine.eventstore import application_env


def signing_keys(settings: Settings) -> SigningKeys:
    if settings.identity.jwt_keys:
        return SigningKeys.parse(settings.identity.jwt_keys)
    return SigningKeys.load_or_create(settings.data_dir / "jwt-keys.json")


class IdentityContext:
    name = NAME
    application = Accounts
    publish_gather_s = 0.005

    def __init__(self) -> None:
        self._parts: IdentityParts | None = None

    async def migrate(self, conn: asyncpg.Connection, schema: str) -> None:
        await account_view.migrate(conn, schema)
        await refresh_sessions.migrate(conn, schema)

    def projections(self, spine: Spine) -> list[Projection]:
        linger_s = spine.settings.projection_linger_ms / 1000
        view = AccountView(spine.pool, spine.settings.schema)
        return [Projection(AccountsReadModel(view), linger_s=linger_s, fetch_timeout_s=linger_s)]

    async def start(self, spine: Spine) -> IdentityParts:
        settings = spine.settings
        accounts = await asyncio.to_thread(
            Accounts,
            application_env(settings),
            admin_identities=settings.split(settings.identity.admin_identities),
        )
        sessions = RefreshSessions(
            spine.pool,
            settings.schema,
            refresh_ttl=timedelta(seconds=settings.identity.refresh_ttl_s),
            grace=timedelta(seconds=settings.identity.refresh_grace_s),
        )
        revocations = Revocations(
            sessions, window=timedelta(seconds=settings.identity.access_ttl_s + 60)
        )
        issuer = TokenIssuer(signing_keys(settings), access_ttl_s=settings.identity.access_ttl_s)
        tickets = await UsedTickets.open(
            spine.js, settings.tickets_bucket, ticket_ttl_s=issuer.ticket_ttl_s
        )
        self._parts = IdentityParts(
            accounts=accounts,
            sessions=sessions,
            view=AccountView(spine.pool, settings.schema),
            google=GoogleVerifier(
                jwks_url=settings.google.jwks_url,
                client_ids=settings.split(settings.google.client_ids),
            ),
            gate=Gate(
                settings,
                issuer,
                revocations,
                Limiter(settings.identity.rate_account_per_s, settings.identity.rate_account_burst),
                tickets,
            ),
            clock=utc_now,
            guests=guest_limiter(settings),
        )
        await revocations.start()
        return self._parts

    async def stop(self) -> None:
        parts = self._parts
        if parts is None:
            return
        await parts.gate.revocations.stop()
        await asyncio.to_thread(parts.accounts.close)

    def router(self) -> Router:
        return Router(
            "/",
            route_handlers=[
                AuthController,
                MeController,
                AdminAccountsController,
                me_live,
                whoami,
                guest_sign_in,
            ],
            dependencies={"identity": Provide(provide_identity, sync_to_thread=False)},
        )
