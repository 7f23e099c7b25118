"""What the web client needs to know about this deployment before it draws anything."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import get
from litestar.di import NamedDependency

from api.canvas.parts import CanvasParts
from api.identity.guest import guest_sign_in_on


class ClientConfig(msgspec.Struct):
    spectator_poll_ms: int
    afk_after_ms: int
    player_cap: int
    google_client_id: str | None
    telegram_bot_username: str | None
    current_canvas: UUID | None
    guest_sign_in: bool = False
    """Whether a visitor may play under a nickname (`POST /api/auth/guest`)."""


@get("/api/config", tags=["canvas"])
async def client_config(canvas: NamedDependency[CanvasParts]) -> ClientConfig:
    """Poll interval for spectators, the AFK window, the sign-in buttons' ids, the current game."""
    settings = canvas.settings
    current = await canvas.reads.view.find_current()
    google = settings.split(settings.google.client_ids)
    return ClientConfig(
        spectator_poll_ms=int(settings.canvas.spectator_poll_s * 1000),
        afk_after_ms=int(settings.canvas.afk_after_s * 1000),
        player_cap=settings.canvas.player_cap,
        google_client_id=google[0] if google else None,
        telegram_bot_username=settings.telegram.bot_username or None,
        current_canvas=current.canvas_id if current is not None else None,
        guest_sign_in=guest_sign_in_on(settings),
    )
