"""The event store's wire format: msgpack through msgspec, registered as the library's transcoder.

Datetimes travel as msgpack timestamps (native), UUIDs as a 16-byte extension, so a stored
event decodes to exactly the state it was encoded from.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Transcoder

_UUID_EXT = 1


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise NotImplementedError(f"cannot store a {type(obj).__name__}")


_NESTED = (UUID, dict, list, tuple)


def _tag_uuids(value: Any) -> Any:
    # msgspec writes a UUID as a plain string (no hook is asked), which would decode as a str:
    # tag UUIDs as an extension before encoding so they come back as UUIDs. Every event's state
    # goes through here, so plain values are passed over without a call each.
    kind = type(value)
    if kind is UUID:
        return msgspec.msgpack.Ext(_UUID_EXT, value.bytes)
    if kind is dict:
        return {k: _tag_uuids(v) if type(v) in _NESTED else v for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_tag_uuids(v) if type(v) in _NESTED else v for v in value]
    return value


def _ext_hook(code: int, data: memoryview) -> Any:
    if code == _UUID_EXT:
        return UUID(bytes=bytes(data))
    raise NotImplementedError(f"unknown extension {code}")


class MsgspecTranscoder(Transcoder):
    def __init__(self) -> None:
        self._encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
        self._decoder = msgspec.msgpack.Decoder(ext_hook=_ext_hook)
        self._run_decoder = msgspec.msgpack.Decoder(list[Any], ext_hook=_ext_hook)

    def encode(self, obj: Any) -> bytes:
        return self._encoder.encode(_tag_uuids(obj))

    def encode_untagged(self, obj: Any) -> bytes:
        """`encode` for a state its caller knows holds no UUID (one would come back a string)."""
        return self._encoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        return self._decoder.decode(data)

    def decode_run(self, states: bytes, count: int) -> list[Any]:
        """`count` states stored one after the other, decoded in one call (behind a msgpack
        array header they are an array of them): an export's page without a call a state."""
        return self._run_decoder.decode(msgpack_array_header(count) + states)


def msgpack_array_header(count: int) -> bytes:
    """The header that makes `count` msgpack values written one after the other an array."""
    return b"\xdd" + count.to_bytes(4, "big")
