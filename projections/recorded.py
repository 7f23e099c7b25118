"""A recorded event as projections see it: its place in the log and its stored state."""

from __future__ import annotations

from uuid import UUID

import msgspec


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
