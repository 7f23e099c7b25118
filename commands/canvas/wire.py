"""The canvas commands as they travel: msgspec structs, validated at decode time for shape."""

from __future__ import annotations

from typing import Annotated

import msgspec

from commands.text import Line

Coordinate = Annotated[int, msgspec.Meta(ge=0, le=65535)]
ColourIndex = Annotated[int, msgspec.Meta(ge=0, le=255)]
OpId = Annotated[Line, msgspec.Meta(min_length=1, max_length=64)]
HexColour = Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")]


class CreateCanvas(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    width: Annotated[int, msgspec.Meta(ge=1, le=4096)]
    height: Annotated[int, msgspec.Meta(ge=1, le=4096)]
    palette: Annotated[list[HexColour], msgspec.Meta(min_length=2, max_length=32)]
    cooldown_ms: Annotated[int, msgspec.Meta(ge=0, le=86_400_000)] = 5_000
    title: Annotated[Line, msgspec.Meta(max_length=200)] = ""


class PlacePixel(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    x: Coordinate
    y: Coordinate
    colour: ColourIndex
    op: OpId | None = None
    """Client-chosen id: a retried placement with the same op gets the same answer."""


class FillRectangle(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    x: Coordinate
    y: Coordinate
    width: Annotated[int, msgspec.Meta(ge=1, le=4096)]
    height: Annotated[int, msgspec.Meta(ge=1, le=4096)]
    colour: ColourIndex


class ClearCanvas(msgspec.Struct, forbid_unknown_fields=True):
    pass


class CloseCanvas(msgspec.Struct, forbid_unknown_fields=True):
    pass


class ReopenCanvas(msgspec.Struct, forbid_unknown_fields=True):
    pass


CanvasCommand = PlacePixel | FillRectangle | ClearCanvas | CloseCanvas | ReopenCanvas
