"""What the web client needs to know about this deployment before it draws anything, and who is
online on a canvas."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath

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
    live_spectators: bool = False
    """Whether this node has room to send a signed-out viewer live deltas over a socket (else
    it polls every `spectator_poll_ms`; a socket refused for want of room closes with 1013)."""


@get("/api/config", tags=["canvas"])
async def client_config(canvas: NamedDependency[CanvasParts]) -> ClientConfig:
    """Poll interval for spectators, the AFK window, the sign-in buttons' ids, the current game
    (null while none is open: pages poll this, not `/api/canvas/current`, whose 404 a browser
    logs as an error)."""
    settings = canvas.settings
    current = await canvas.reads.find_current()  # cached a moment: every open page polls it
    google = settings.split(settings.google.client_ids)
    return ClientConfig(
        spectator_poll_ms=int(settings.canvas.spectator_poll_s * 1000),
        afk_after_ms=int(settings.canvas.afk_after_s * 1000),
        player_cap=settings.canvas.player_cap,
        google_client_id=google[0] if google else None,
        telegram_bot_username=settings.telegram.bot_username or None,
        current_canvas=current.canvas_id if current is not None else None,
        guest_sign_in=guest_sign_in_on(settings),
        live_spectators=canvas.spectators.room,
    )


class Online(msgspec.Struct):
    players: int
    """Players placing now (a game action within the AFK window)."""
    queued: int
    """Signed-in users waiting for a place."""


@get("/api/canvas/{canvas_id:uuid}/online", tags=["canvas"])
async def players_online(
    canvas_id: FromPath[UUID], canvas: NamedDependency[CanvasParts]
) -> Online:
    """Who plays on the canvas now, from the players' roster (volatile, shared over NATS)."""
    players, queued = canvas.presence.counts(str(canvas_id))
    return Online(players, queued)
