"""Create everything the service stores, once, before any worker starts."""

from __future__ import annotations

import asyncio

import asyncpg

from commands.accounts import Accounts
from commands.canvases import Canvases
from commands.desks import Desks
from commands.feedback import Feedbacks
from infra import account_view, desk_view, feedback_view, pixel_view, sessions
from infra.eventstore import application_env, ensure_schema
from infra.readmodels import migrate as migrate_read_models
from infra.settings import Settings

APPLICATIONS = (Canvases, Accounts, Feedbacks, Desks)


async def migrate(settings: Settings) -> None:
    assert settings.database_url is not None
    await asyncio.to_thread(_create_event_store, settings)
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate_read_models(conn, settings.schema)
        await account_view.migrate(conn, settings.schema)
        await pixel_view.migrate(conn, settings.schema)
        await feedback_view.migrate(conn, settings.schema)
        await sessions.migrate(conn, settings.schema)
        await desk_view.migrate(conn, settings.schema)
    finally:
        await conn.close()


def _create_event_store(settings: Settings) -> None:
    ensure_schema(settings)
    for application_class in APPLICATIONS:
        application_class(env=application_env(settings, create_table=True)).close()
