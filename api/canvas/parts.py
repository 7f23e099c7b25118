"""What the canvas's handlers receive: its running parts, as the dependency `canvas` (and its
reads as `reads`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar.datastructures import State

from api.canvas.reads import CanvasReads
from api.canvas.seats import SpectatorSeats
from api.canvas.telegram_bot import TelegramBot
from api.node import parts_provider
from commands.canvas.canvases import Canvases
from infra.canvas.presence import Presence
from infra.canvas.stats_view import StatsView
from infra.canvas.timelapse import Timelapses
from infra.live.fanout import Fanout
from infra.settings import Settings

NAME = "canvas"


@dataclass
class CanvasParts:
    settings: Settings
    canvases: Canvases
    reads: CanvasReads
    fanout: Fanout
    presence: Presence
    telegram: TelegramBot
    spectators: SpectatorSeats = field(default_factory=lambda: SpectatorSeats(0))
    """Signed-out live sockets on this node (`TESSERA_LIVE_SPECTATORS`)."""
    timelapses: Timelapses | None = None
    stats: StatsView | None = None


provide_canvas = parts_provider(NAME, CanvasParts)


def provide_reads(state: State) -> CanvasReads:
    return provide_canvas(state).reads
