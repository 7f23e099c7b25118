"""The messages of a desk's live socket (`api.desk.live`), as msgspec types: what clients send,
and the frames only a socket's own connection writes (the fanned-out ones are in
`infra.desk.hub`)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from commands.desk.wire import ApplyStickerOp, Id, Number
from commands.text import Line
from infra.desk.hub import encode
from infra.live.socket import LIVE_SOCKETS


class Hello(msgspec.Struct, tag="hello", forbid_unknown_fields=True):
    client_id: Id
    session_key: Annotated[Line, msgspec.Meta(max_length=64)] = ""
    epoch: Annotated[int, msgspec.Meta(ge=0)] = 0
    last_seq: Annotated[int, msgspec.Meta(ge=0)] = 0
    access_token: Annotated[Line, msgspec.Meta(max_length=4096)] = ""
    """The signed-in account's, if any: its desks are found by name in any of its browsers."""


class Op(ApplyStickerOp, tag="op", forbid_unknown_fields=True):
    pass


class Drag(msgspec.Struct, forbid_unknown_fields=True):
    sticker: Id
    x: Number
    y: Number


class PresenceIn(msgspec.Struct, tag="presence", forbid_unknown_fields=True):
    cursor: tuple[Number, Number] | None = None
    selection: Annotated[list[Id], msgspec.Meta(max_length=1000)] | None = None
    drag: Drag | None = None
    name: Annotated[Line, msgspec.Meta(max_length=40)] | None = None
    """How the others see this person (their label and the list of who is here)."""


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    pass


class PresenceOut(msgspec.Struct, tag="presence", omit_defaults=True):
    client_id: str
    cursor: tuple[float, float] | None
    selection: list[str] | None
    drag: Drag | None
    name: str | None = None


class AckFrame(msgspec.Struct, tag="ack"):
    client_seq: int
    desk_seq: int
    applied: list[str]
    superseded: list[str]
    replayed: bool


class CollisionFrame(msgspec.Struct, tag="collision"):
    sticker: str
    field: str
    lost: Any
    winner: Any
    winner_stamp: tuple[int, int, str]


Inbound = Hello | Op | PresenceIn | Ping
decode_inbound = msgspec.json.Decoder(Inbound, strict=True).decode


class _Numbered(msgspec.Struct):
    type: str = ""
    client_seq: int | None = None


def client_seq_of(raw: str | bytes) -> dict[str, int]:
    """`{"client_seq": n}` of an op that did not decode, when it carries one: the client can
    then drop that op instead of sending it again behind every later one."""
    try:
        numbered = msgspec.json.decode(raw, type=_Numbered)
    except msgspec.DecodeError:
        return {}
    if numbered.type != "op" or numbered.client_seq is None:
        return {}
    return {"client_seq": numbered.client_seq}


def error_frame(code: str, detail: str, **extra: Any) -> bytes:
    """A refusal of a client's message (counted for `/metrics`)."""
    LIVE_SOCKETS.refusal("desk", code)
    return encode({"type": "error", "error": code, "detail": detail, **extra})
