"""Create everything the service stores, once, before any worker starts."""

from __future__ import annotations

import asyncio

import asyncpg

from commands.canvas.canvases import Canvases
from commands.desk.desks import Desks
from commands.feedback.feedbacks import Feedbacks
from commands.identity.accounts import Accounts
from infra.canvas import pixel_view
from infra.desk import view as desk_view
from infra.feedback import view as feedback_view
from infra.identity import refresh_sessions
from infra.identity import view as account_view
from infra.settings import Settings
from infra.spine.eventstore import application_env, ensure_schema
from infra.spine.readmodels import migrate as migrate_read_models

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
        await refresh_sessions.migrate(conn, settings.schema)
        await desk_view.migrate(conn, settings.schema)
    finally:
        await conn.close()


def _create_event_store(settings: Settings) -> None:
    ensure_schema(settings)
    for application_class in APPLICATIONS:
        application_class(env=application_env(settings, create_table=True)).close()
