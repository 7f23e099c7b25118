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
    if isinstance(obj, UUID):
        return msgspec.msgpack.Ext(_UUID_EXT, obj.bytes)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise NotImplementedError(f"cannot store a {type(obj).__name__}")


def _ext_hook(code: int, data: memoryview) -> Any:
    if code == _UUID_EXT:
        return UUID(bytes=bytes(data))
    raise NotImplementedError(f"unknown extension {code}")


class MsgspecTranscoder(Transcoder):
    def __init__(self) -> None:
        self._encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
        self._decoder = msgspec.msgpack.Decoder(ext_hook=_ext_hook)

    def encode(self, obj: Any) -> bytes:
        return self._encoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        return self._decoder.decode(data)
