"""The canvas's stored events as its projections read them: the fields they use, decoded with
msgspec, and a run of placements decoded in one call into numpy columns."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import datetime

import msgspec
import numpy as np

from commands.codec import msgpack_array_header
from projections.recorded import Recorded


class Created(msgspec.Struct):
    title: str
    width: int
    height: int
    palette: list[str]
    cooldown_ms: int
    timestamp: datetime


class Placed(msgspec.Struct, gc=False):
    x: int
    y: int
    colour: int


class Filled(msgspec.Struct):
    x: int
    y: int
    width: int
    height: int
    colour: int


decode_created = msgspec.msgpack.Decoder(Created).decode
decode_placed = msgspec.msgpack.Decoder(Placed).decode
decode_filled = msgspec.msgpack.Decoder(Filled).decode
_decode_placed_list = msgspec.msgpack.Decoder(list[Placed]).decode
_FIELDS = (operator.attrgetter("x"), operator.attrgetter("y"), operator.attrgetter("colour"))

RUN_WORTH_DECODING_AT_ONCE = 8
"""Placements in a row on one canvas below which decoding them one by one is as fast."""


def placement_columns(states: bytes, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The x, y and colour columns (uint32) of `count` placement states laid one after the
    other, decoded as one msgpack array (`map(attrgetter)` per column: 0.43 µs an event, the
    generator over every value took 0.75)."""
    placed = _decode_placed_list(msgpack_array_header(count) + states)
    xs, ys, colours = (
        np.fromiter(map(field, placed), dtype=np.uint32, count=count) for field in _FIELDS
    )
    return xs, ys, colours


def run_columns(run: Sequence[Recorded]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`placement_columns` of a run of placement events."""
    return placement_columns(b"".join([event.state for event in run]), len(run))
