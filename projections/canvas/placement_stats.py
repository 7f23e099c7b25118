"""Placement counts for analysts: per user and per colour, by the hour. Pure: placements in,
the counts a batch adds out (the view adds them to its rows in the batch's transaction)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import msgspec

from projections.canvas.bitmap import TOPIC_PLACED
from projections.recorded import Recorded


class _Placed(msgspec.Struct, gc=False):
    colour: int
    user: str
    timestamp: datetime


_decode_list = msgspec.msgpack.Decoder(list[_Placed]).decode


class Counts(NamedTuple):
    users: Counter[tuple[UUID, datetime, str]]
    colours: Counter[tuple[UUID, datetime, int]]


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class PlacementStatsProjection:
    name = "placement_stats"
    topics: tuple[str, ...] = (TOPIC_PLACED,)

    def __init__(self) -> None:
        self.counts = Counts(Counter(), Counter())

    def apply(self, event: Recorded) -> None:
        self.apply_page([event])

    def apply_page(self, events: Sequence[Recorded]) -> None:
        placed = [e for e in events if e.topic == TOPIC_PLACED]
        if not placed:
            return
        header = b"\xdd" + len(placed).to_bytes(4, "big")
        decoded = _decode_list(header + b"".join([e.state for e in placed]))
        users, colours = self.counts
        hours: dict[datetime, datetime] = {}
        for event, p in zip(placed, decoded, strict=True):
            hour = hours.get(p.timestamp)
            if hour is None:
                hour = hours[p.timestamp] = hour_of(p.timestamp)
            users[event.originator_id, hour, p.user] += 1
            colours[event.originator_id, hour, p.colour] += 1

    def collect(self) -> Counts:
        counts, self.counts = self.counts, Counts(Counter(), Counter())
        return counts
