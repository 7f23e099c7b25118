"""Video frames of a board: the board scaled to fit with nearest-neighbour pixels under a strip
that shows the version, the players online and the time.

The scaling is two precomputed index arrays and one fancy-indexing gather through the palette;
after the first frame only the frame rows whose board rows changed are gathered again (a live
canvas changes a few dozen pixels a frame: a 720p frame of a 2000×2000 board costs about 1 ms
instead of 11), and given the changed board rows (`render_rows`) the board is not even compared.
The strip is drawn (Pillow) only when its text changes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (24, 24, 24)
TEXT = (240, 240, 240)


class Area(NamedTuple):
    """Where the board lands in the frame."""

    x: int
    y: int
    width: int
    height: int


def fit(board_w: int, board_h: int, frame_w: int, frame_h: int, top: int) -> Area:
    """The largest area of the board's proportions under a strip `top` pixels high, centred."""
    room_h = frame_h - top
    scale = min(frame_w / board_w, room_h / board_h)
    width = max(1, int(board_w * scale))
    height = max(1, int(board_h * scale))
    return Area((frame_w - width) // 2, top + (room_h - height) // 2, width, height)


def palette_rgb(palette: list[str]) -> np.ndarray:
    """A 256-entry colour table (indices beyond the palette are black)."""
    table = np.zeros((256, 3), dtype=np.uint8)
    for index, colour in enumerate(palette):
        table[index] = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return table


class FrameRenderer:
    def __init__(
        self, board_w: int, board_h: int, palette: list[str], *, width: int = 1280,
        height: int = 720,
    ) -> None:
        self.board_w, self.board_h = board_w, board_h
        self.width, self.height = width, height
        self.strip = max(16, height // 26)
        self.area = fit(board_w, board_h, width, height, self.strip)
        self.colours = palette_rgb(palette)
        self._palette_size = len(palette)
        area = self.area
        self._rows = (np.arange(area.height) * board_h // area.height).astype(np.intp)
        self._cols = (np.arange(area.width) * board_w // area.width).astype(np.intp)
        self._frame = np.empty((height, width, 3), dtype=np.uint8)
        self._frame[:] = BACKGROUND
        self._text = ""
        self._board: np.ndarray | None = None
        """The board of the frame as it stands, to find the rows the next board changes."""
        self._font = ImageFont.load_default(size=max(10, self.strip - 6))

    def render(self, board: np.ndarray, text: str) -> np.ndarray:
        """The frame (height × width × 3, RGB) of a flat board; the same array every call."""
        if self._board is None:
            self._board = board.copy()
            lines = np.arange(self.area.height)
        else:
            changed = np.flatnonzero(board != self._board) // self.board_w
            lines = np.flatnonzero(np.isin(self._rows, changed))
            np.copyto(self._board, board)
        self._paint(lines)
        return self.render_text(text)

    def render_rows(self, rows: np.ndarray, pixels: np.ndarray, text: str) -> np.ndarray:
        """`render` of the board as it was with board rows `rows` now `pixels` (len(rows) ×
        board width): only what changed is copied and compared (a live stream's follower
        knows which rows its deltas touched; a 4 MB board is neither copied nor scanned)."""
        if self._board is None:
            self._board = np.zeros(self.board_w * self.board_h, dtype=np.uint8)
            lines = np.arange(self.area.height)
        else:
            lines = np.flatnonzero(np.isin(self._rows, rows))
        self._board.reshape(self.board_h, self.board_w)[rows] = pixels
        self._paint(lines)
        return self.render_text(text)

    def _paint(self, lines: np.ndarray) -> None:
        """Frame lines `lines` of the board area gathered again from the renderer's board."""
        if lines.size and self._board is not None:
            area = self.area
            grid = self._board.reshape(self.board_h, self.board_w)
            self._frame[area.y + lines, area.x : area.x + area.width] = self.colours[
                grid[self._rows[lines][:, None], self._cols[None, :]]]

    def render_text(self, text: str) -> np.ndarray:
        """The last frame with the strip's text changed (the board is as it was)."""
        if text != self._text:
            self._text = text
            self._frame[: self.strip] = self._strip(text)
        return self._frame

    def _strip(self, text: str) -> np.ndarray:
        image = Image.new("RGB", (self.width, self.strip), BACKGROUND)
        ImageDraw.Draw(image).text((8, 2), text, fill=TEXT, font=self._font)
        return np.asarray(image)

    def expected_board(self, frame: np.ndarray) -> np.ndarray:
        """The board read back from a (decoded) frame: the colour at each board pixel's centre,
        mapped to the nearest palette index. For tests and checks of what was sent."""
        area = self.area
        ys = area.y + ((np.arange(self.board_h) + 0.5) * area.height / self.board_h).astype(int)
        xs = area.x + ((np.arange(self.board_w) + 0.5) * area.width / self.board_w).astype(int)
        sampled = frame[ys[:, None], xs[None, :]].astype(np.int32)
        colours = self.colours[: self._palette_size].astype(np.int32)
        distances = ((sampled[:, :, None, :] - colours[None, None, :, :]) ** 2).sum(axis=3)
        return distances.argmin(axis=2).astype(np.uint8).ravel()
