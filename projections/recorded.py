"""A recorded event as projections see it: its place in the log and its stored state."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from uuid import UUID

import msgspec
import numpy as np


class Recorded(msgspec.Struct, array_like=True, frozen=True):
    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    """The event's stored state (msgpack, see `commands.codec`); projections decode what they need."""


_encoder = msgspec.msgpack.Encoder(uuid_format="bytes")
_decoder = msgspec.msgpack.Decoder(list[Recorded])
_single = msgspec.msgpack.Decoder(Recorded)


def encode_page(events: list[Recorded]) -> bytes:
    """Consecutive events of one context's log as one stream message (see `infra.spine.publisher`)."""
    return _encoder.encode(events)


def decode_page(data: bytes) -> list[Recorded]:
    """A page; or one event, as relays before pages published them (a stream written by an
    earlier version still holds those, and its projections' consumers read them once more)."""
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError:
        return [_single.decode(data)]


class Columns:
    """Consecutive events of the log as columns: what a rebuild reads, so that a projection can
    take a run of like events (placements on one canvas) with numpy and one msgpack call,
    without a Python object per event (`infra.spine.store_reader.StoreReader.read_columns`).

    `topics` is the tuple the page was read for; `topic_codes[i]` indexes it. The states are
    one buffer, event `i`'s from `state_ends[i - 1]` (0 for the first) to `state_ends[i]`."""

    __slots__ = ("ids", "originators", "state_ends", "states", "topic_codes", "topics", "versions")

    def __init__(
        self,
        topics: tuple[str, ...],
        ids: np.ndarray,
        versions: np.ndarray,
        topic_codes: np.ndarray,
        originators: np.ndarray,
        state_ends: np.ndarray,
        states: bytes,
    ) -> None:
        self.topics = topics
        self.ids = ids
        self.versions = versions
        self.topic_codes = topic_codes
        self.originators = originators
        """(n, 2) uint64: each event's originator id, its 16 bytes as two numbers."""
        self.state_ends = state_ends
        self.states = states

    def __len__(self) -> int:
        return len(self.ids)

    def runs(self) -> Iterator[tuple[int, int]]:
        """Each stretch [start, stop) of events of one topic and one originator, in order."""
        count = len(self.ids)
        if not count:
            return
        changes = (self.topic_codes[1:] != self.topic_codes[:-1]) | (
            self.originators[1:] != self.originators[:-1]
        ).any(axis=1)
        bounds = [0, *(np.flatnonzero(changes) + 1).tolist(), count]
        yield from itertools.pairwise(bounds)

    def topic(self, i: int) -> str:
        return self.topics[self.topic_codes[i]]

    def originator(self, i: int) -> UUID:
        return UUID(bytes=self.originators[i].tobytes())

    def state_span(self, start: int, stop: int) -> bytes:
        """The states of events [start, stop), one after the other."""
        first = int(self.state_ends[start - 1]) if start else 0
        return self.states[first : int(self.state_ends[stop - 1])]

    def event(self, i: int) -> Recorded:
        return Recorded(
            int(self.ids[i]), self.originator(i), int(self.versions[i]), self.topic(i),
            self.state_span(i, i + 1),
        )
