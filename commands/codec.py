"""The event store's wire format: msgpack through msgspec, registered as the library's transcoder.

Datetimes travel as msgpack timestamps (native), UUIDs as a 16-byte extension, so a stored
event decodes to exactly the state it was encoded from.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

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


_PLAIN = frozenset({int, str, float, bool, bytes, datetime, type(None)})


def _holds_no_uuid(event_class: type) -> bool:
    """Whether no UUID can hide in the event class's state: it says so (`holds_no_uuid = True`,
    for fields of JSON values from the wire), or every field but its id (stored apart) is
    declared as a plain scalar — int, str, float, bool, bytes, datetime or an optional one."""
    if getattr(event_class, "holds_no_uuid", False):
        return True
    try:
        hints = typing.get_type_hints(event_class)
    except Exception:  # noqa: BLE001 - a hint that does not resolve: tag, as for any
        return False
    for field in dataclasses.fields(event_class):
        if field.name == "originator_id":
            continue
        hint = hints.get(field.name)
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        kinds = typing.get_args(hint) if union else (hint,)
        if not all(kind in _PLAIN for kind in kinds):
            return False
    return True


class StoredEventMapper(Mapper[UUID]):
    """The library's mapper, without its per-event costs for the events a writer stores
    thousands of a batch (`TESSERA`'s application environment names it as `MAPPER_TOPIC`).

    Per class it looks up once what the library looks up per event (the topic, the class
    version), walks a state for UUIDs only when the class may hold one (`_holds_no_uuid`), and
    makes the `StoredEvent` as the library's own mapper makes a domain event on the way back:
    its `__dict__` set whole, not its frozen fields one `object.__setattr__` at a time. With a
    cipher or a compressor configured it is the library's mapper."""

    def __init__(self, transcoder: Transcoder, compressor: Any = None, cipher: Any = None):
        super().__init__(transcoder, compressor, cipher)
        self._plain = not (compressor or cipher) and isinstance(transcoder, MsgspecTranscoder)
        self._classes: dict[type, tuple[str, int, bool]] = {}

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if not self._plain:
            return super().to_stored_event(domain_event)
        cls = type(domain_event)
        known = self._classes.get(cls)
        if known is None:
            known = (get_topic(cls), getattr(cls, "class_version", 1), _holds_no_uuid(cls))
            self._classes[cls] = known
        topic, class_version, untagged = known
        state = dict(domain_event.__dict__)
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if class_version > 1:
            state["class_version"] = class_version
        transcoder = self.transcoder
        assert isinstance(transcoder, MsgspecTranscoder)
        encoded = transcoder.encode_untagged(state) if untagged else transcoder.encode(state)
        stored = object.__new__(StoredEvent)
        object.__setattr__(stored, "__dict__", {
            "originator_id": originator_id,
            "originator_version": originator_version,
            "topic": topic,
            "state": encoded,
        })
        return stored
