"""The Pixel Wars canvas: a board of palette indices that players paint one pixel at a time.

The aggregate holds what a decision needs (size, palette, cooldowns, open or closed), never
the pixels themselves: the board is a projection of the placements.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import eventsourcing.domain
from eventsourcing.domain import Aggregate

MAX_SIDE = 4096
MAX_PALETTE = 32
MAX_FILL_AREA = 1 << 20
OP_WINDOW = 16
"""Op ids remembered per player, with the version and pixel each placed: a resend of any of
them is answered again and places nothing. A resend meets at most the ops its client placed
after it; how many that can be: the web client has one placement in flight per tab (its Place
button waits for the answer, and a cut-off one is resent under the same op), the canvas socket
reads a client's frames one at a time and answers them in order, and the load generator keeps
four in flight per socket (`--inflight 4`). Sixteen is four times that; an op that has left
the window would be placed again.

The other way round — the first copy of an op decided after a resend of it was placed — the
window alone cannot see: a command can wait in a node's queue (a stopping node finishing its
work, a writer losing races to another node's) while its resend is placed through another node
and the player places many more. So a placement says which version of the canvas its node knew
stored when it took the command (`seen`): whatever was placed after that has a later version, and
one whose player's whole window is later is refused with `OpStale` (`try_again`). So every op
placed since the command was taken is still in the window when it is decided, its resend among
them. Versions, not clocks: nodes' clocks may disagree, the canvas's versions do not."""
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class CanvasError(Exception):
    """Base of every refusal the canvas gives; `code` names it on the wire."""

    code = "canvas_error"


class InvalidCanvas(CanvasError):
    code = "invalid_canvas"


class PixelOutOfBounds(CanvasError):
    code = "out_of_bounds"


class UnknownColour(CanvasError):
    code = "unknown_colour"


class CanvasClosed(CanvasError):
    code = "canvas_closed"


class OpReused(CanvasError):
    """An op id the player already used for another pixel (or colour)."""

    code = "op_reused"


class OpStale(CanvasError):
    """A placement decided so long after its node took it that the player's op window has
    moved on since: a resend of it may have been placed and left the window. Nothing was
    placed; the client sends it again (a resend is decided against the window of its own
    moment)."""

    code = "try_again"


class CooldownActive(CanvasError):
    code = "cooldown"

    def __init__(self, wait_ms: int) -> None:
        super().__init__(f"cooldown active: wait {wait_ms} ms")
        self.wait_ms = wait_ms


class Placement(NamedTuple):
    """The answer to a placement: the canvas version it produced, and whether it is a replay."""

    version: int
    replayed: bool = False


@functools.lru_cache(maxsize=64)
def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch. Remembered: a writer decides a batch of thousands of
    placements at one `now`, and applies each one's event at it."""
    return int(moment.timestamp() * 1000)


OpWindow = tuple[str | int | None, ...]
"""A player's remembered ops, oldest first, flat: `op id, version, pixel` for each, where the
pixel is the placement as a delta entry, `(y·width + x) << 5 | colour` (None for an op known
only from a snapshot taken before ops had one). Flat, because the event store's codec walks
every nested tuple of a snapshot: nested, a thousand players' windows took 15 ms to encode,
flat 4."""


def validate_palette(palette: list[str]) -> None:
    if not 2 <= len(palette) <= MAX_PALETTE:
        raise InvalidCanvas(f"a palette has 2 to {MAX_PALETTE} colours, got {len(palette)}")
    for colour in palette:
        if not _HEX_COLOUR.match(colour):
            raise InvalidCanvas(f"colour {colour!r} is not #rrggbb")


def validate_size(width: int, height: int) -> None:
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise InvalidCanvas(f"width and height are 1 to {MAX_SIDE}, got {width}x{height}")


class Canvas(Aggregate):
    """One board. Its version is the aggregate version: every event bumps it by exactly one."""

    class_version = 2
    """Of the snapshot state: version 2 added `recent_ops` (`upcast_v1_v2`)."""

    class Snapshot(eventsourcing.domain.Snapshot):
        holds_no_uuid = True
        """Its state is plain values and the canvas's id is stored apart: the store's mapper
        need not walk its thousands of players for UUIDs (`commands.codec`)."""

    class Created(Aggregate.Created):
        title: str
        width: int
        height: int
        palette: list[str]
        cooldown_ms: int

    def __init__(self, title: str, width: int, height: int, palette: list[str], cooldown_ms: int):
        self.title = title
        self.width = width
        self.height = height
        self.palette = list(palette)
        self.cooldown_ms = cooldown_ms
        self.is_open = True
        self.season = 1
        # user -> (at_ms, op, version) of their last placement; plain sequences so that
        # snapshots decode to the same shape they were taken from
        self.last_placed: dict[str, tuple[int, str | None, int]] = {}
        # user -> their last OP_WINDOW placements that carried an op id: tuples of plain
        # values, which the garbage collector stops tracking; a snapshot decodes lists
        self.recent_ops: dict[str, OpWindow] = {}

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A snapshot from before the op window: each player's last op is all it knew."""
        state["recent_ops"] = {
            user: (op, version, None)
            for user, (_, op, version) in state["last_placed"].items()
            if op is not None
        }

    @classmethod
    def create(
        cls,
        *,
        canvas_id: UUID,
        title: str,
        width: int,
        height: int,
        palette: list[str],
        cooldown_ms: int,
        now: datetime,
    ) -> Canvas:
        validate_size(width, height)
        validate_palette(palette)
        if cooldown_ms < 0:
            raise InvalidCanvas("cooldown_ms must not be negative")
        return cls._create(
            cls.Created,
            id=canvas_id,
            timestamp=now,
            title=title,
            width=width,
            height=height,
            palette=list(palette),
            cooldown_ms=cooldown_ms,
        )

    # -- decisions --------------------------------------------------------------------------

    def place(
        self,
        *,
        x: int,
        y: int,
        colour: int,
        user: str,
        now: datetime,
        op: str | None = None,
        is_admin: bool = False,
        seen: int | None = None,
    ) -> Placement:
        """`seen`: the version its node knew stored when it took the command (for an op)."""
        if op is not None:
            replayed = self._replayed(user, op, x, y, colour)
            if replayed is not None:
                return replayed
            if seen is not None:
                self._check_not_stale(user, op, seen)
        self._check_open()
        self._check_point(x, y)
        self._check_colour(colour)
        now_ms = epoch_ms(now)
        last = self.last_placed.get(user)
        if not is_admin and last is not None:
            wait_ms = last[0] + self.cooldown_ms - now_ms
            if wait_ms > 0:
                raise CooldownActive(wait_ms)
        self._record_placement(now, x, y, colour, user, op)
        return Placement(self._version)

    def _record_placement(
        self, now: datetime, x: int, y: int, colour: int, user: str, op: str | None
    ) -> None:
        """`trigger_event(self.PixelPlaced, …)`, for the event a writer makes thousands of a
        batch: the library's path checks what holds here by construction (the event's id and
        version are the aggregate's next), copies its arguments twice and sets the frozen
        dataclass's eight fields one `object.__setattr__` at a time — 60 % of a placement's
        decision. The event is made as the library's mapper makes a stored one (its `__dict__`
        set whole, in the fields' order), so it equals, encodes and applies the same
        (`tests/unit/canvas/test_canvas.py`)."""
        version = self._version + 1
        event = object.__new__(self.PixelPlaced)
        object.__setattr__(event, "__dict__", {
            "originator_id": self._id,
            "originator_version": version,
            "timestamp": now,
            "x": x,
            "y": y,
            "colour": colour,
            "user": user,
            "op": op,
        })
        event.apply(self)
        self._version = version
        self._modified_on = now
        self._pending_events.append(event)

    def fill(
        self, *, x: int, y: int, width: int, height: int, colour: int, user: str, now: datetime
    ) -> Placement:
        """An admin's rectangle fill: one event, one version."""
        self._check_open()
        if width < 1 or height < 1 or width * height > MAX_FILL_AREA:
            raise InvalidCanvas(f"a fill covers 1 to {MAX_FILL_AREA} pixels")
        self._check_point(x, y)
        self._check_point(x + width - 1, y + height - 1)
        self._check_colour(colour)
        self.trigger_event(
            self.RectangleFilled,
            timestamp=now,
            x=x,
            y=y,
            width=width,
            height=height,
            colour=colour,
            user=user,
        )
        return Placement(self.version)

    def clear(self, *, user: str, now: datetime) -> Placement:
        """Start a new season: every pixel goes back to colour 0; the version keeps growing."""
        self.trigger_event(self.Cleared, timestamp=now, user=user)
        return Placement(self.version)

    def close(self, *, user: str, now: datetime) -> Placement:
        if self.is_open:
            self.trigger_event(self.Closed, timestamp=now, user=user)
        return Placement(self.version)

    def reopen(self, *, user: str, now: datetime) -> Placement:
        if not self.is_open:
            self.trigger_event(self.Reopened, timestamp=now, user=user)
        return Placement(self.version)

    def _replayed(self, user: str, op: str, x: int, y: int, colour: int) -> Placement | None:
        """The first answer to a resent op; None for an op not in the player's window."""
        window = self.recent_ops.get(user)
        if not window:
            return None
        try:
            at = 3 * window[::3].index(op)
        except ValueError:
            return None
        version, entry = window[at + 1], window[at + 2]
        assert isinstance(version, int)
        if entry is not None and entry != self._entry(x, y, colour):
            raise OpReused(f"op {op!r} already placed another pixel, at version {version}")
        return Placement(version, replayed=True)

    def _check_not_stale(self, user: str, op: str, seen: int) -> None:
        """Refuse an op taken before the oldest placement its player's full window remembers."""
        window = self.recent_ops.get(user)
        if window is None or len(window) < 3 * OP_WINDOW:
            return
        oldest = window[1]
        assert isinstance(oldest, int)
        if oldest > seen:
            raise OpStale(
                f"op {op!r} waited here while its player placed {OP_WINDOW} others: "
                "nothing was placed, send it again"
            )

    def _entry(self, x: int, y: int, colour: int) -> int | None:
        """The pixel as a delta entry; None off the board or the palette (never a placed one)."""
        if 0 <= x < self.width and 0 <= y < self.height and 0 <= colour < len(self.palette):
            return (y * self.width + x) << 5 | colour
        return None

    def _check_open(self) -> None:
        if not self.is_open:
            raise CanvasClosed("the canvas is closed")

    def _check_point(self, x: int, y: int) -> None:
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise PixelOutOfBounds(
                f"({x}, {y}) is outside the {self.width}x{self.height} canvas"
            )

    def _check_colour(self, colour: int) -> None:
        if not 0 <= colour < len(self.palette):
            raise UnknownColour(f"colour {colour} is not in the palette of {len(self.palette)}")

    def collect_events(self) -> Any:
        # The library pops pending events one by one from the front (quadratic); a writer
        # collects thousands per save, so hand the whole list over at once.
        collected, self._pending_events = self._pending_events, []
        return collected

    # -- events: each applies itself, deterministically ----------------------------------------

    class PixelPlaced(Aggregate.Event):
        x: int
        y: int
        colour: int
        user: str
        op: str | None

        def apply(self, canvas: Canvas) -> None:
            at_ms = epoch_ms(self.timestamp)
            canvas.last_placed[self.user] = (at_ms, self.op, self.originator_version)
            if self.op is not None:
                entry = (self.y * canvas.width + self.x) << 5 | self.colour
                window = canvas.recent_ops.get(self.user, ())
                kept = window[3:] if len(window) >= 3 * OP_WINDOW else window
                canvas.recent_ops[self.user] = (*kept, self.op, self.originator_version, entry)

    class RectangleFilled(Aggregate.Event):
        x: int
        y: int
        width: int
        height: int
        colour: int
        user: str

        def apply(self, canvas: Canvas) -> None:
            pass

    class Cleared(Aggregate.Event):
        user: str

        def apply(self, canvas: Canvas) -> None:
            canvas.season += 1

    class Closed(Aggregate.Event):
        user: str

        def apply(self, canvas: Canvas) -> None:
            canvas.is_open = False

    class Reopened(Aggregate.Event):
        user: str

        def apply(self, canvas: Canvas) -> None:
            canvas.is_open = True
