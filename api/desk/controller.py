"""Sticker desks over HTTP: create or find by name, a session from the link, state, export, and
ops for bad connections.

Desks are open to anyone holding the link: no sign-in, the link id is the secret. A name finds
only a desk this browser (or signed-in account) created or opened before (`api.desk.openers`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from api.auth import AS_VIEWER
from api.desk.openers import Openers, openers_of
from api.desk.parts import DeskParts
from api.errors import ApiError
from api.versions import parse_seq
from commands.actor import Actor
from commands.desk.desks import DeskNotFound, desk_id_of, desk_link
from commands.desk.wire import AckOut, ApplyStickerOp, CollisionOut, FinishSession, InitDesk
from domain.desk import (
    Ack,
    ClockSkew,
    Desk,
    NotCreator,
    SequenceGap,
    TooManyStickers,
    UnknownSticker,
    epoch_ms,
)
from infra.desk.hub import DeskHub
from infra.desk.keys import new_client_id
from infra.desk.reads import DeskState
from infra.desk.view import StickerOut, sticker_out

SESSION_HEADER = "X-Desk-Session"

class DeskOut(msgspec.Struct, omit_defaults=True):
    desk_id: str
    """The link id: `/desk/<desk_id>`."""
    name: str
    epoch: int
    desk_seq: int
    expires_at_ms: int
    stickers: list[StickerOut]
    client_id: str | None = None
    """A fresh client id for this session: stamps and `client_seq`s are counted per id, so a
    client keeps it (and its key) with its outbox and replays under it."""
    session_key: str | None = None
    """Proves `client_id` on this desk: header `X-Desk-Session` of an op, `session_key` of a
    socket's `hello`."""
    creator_token: str | None = None
    """Only in the answer that created the desk: the proof of being its creator."""


class DeskExport(msgspec.Struct):
    desk_id: str
    name: str
    desk_seq: int
    exported_at_ms: int
    stickers: list[StickerOut]


class SessionOut(msgspec.Struct):
    epoch: int


class NewSession(msgspec.Struct, forbid_unknown_fields=True):
    """The body of `POST /api/desk/{id}/session`, when there is one: nothing yet (the link is
    the whole proof), but an unknown field is refused rather than silently ignored."""


def desk_out(desk: Desk, **tokens: str | None) -> DeskOut:
    return DeskOut(
        desk_id=desk_link(desk.id),
        name=desk.name,
        epoch=desk.epoch,
        desk_seq=desk.desk_seq,
        expires_at_ms=desk.expires_at_ms(),
        stickers=[sticker_out(key, registers) for key, registers in desk.stickers.items()],
        **tokens,
    )


def state_out(state: DeskState, **tokens: str | None) -> DeskOut:
    return DeskOut(
        desk_id=desk_link(state.desk_id),
        name=state.name,
        epoch=state.epoch,
        desk_seq=state.desk_seq,
        expires_at_ms=state.expires_at_ms,
        stickers=state.stickers,
        **tokens,
    )


def ack_out(ack: Ack) -> AckOut:
    return AckOut(
        client_seq=ack.client_seq,
        desk_seq=ack.desk_seq,
        applied=ack.applied,
        superseded=ack.superseded,
        replayed=ack.replayed,
        collisions=[CollisionOut(*collision) for collision in ack.collisions],
    )


def _with_session(hub: DeskHub, desk: Desk, creator_token: str | None = None) -> DeskOut:
    """The desk with a fresh client id and the session key that proves it."""
    client_id = new_client_id()
    return desk_out(
        desk,
        client_id=client_id,
        session_key=hub.session_keys.issue(desk.id, client_id),
        creator_token=creator_token,
    )


def _answer(out: DeskOut, openers: Openers) -> Response[DeskOut]:
    cookies = [] if openers.cookie is None else [openers.cookie]
    return Response(out, cookies=cookies)


class DeskController(Controller):
    path = "/api/desk"
    tags = ("desk",)

    @post("/init", status_code=200, dependencies=AS_VIEWER, refuses=(DeskNotFound,))
    async def init_desk(
        self,
        data: JSONBody[InitDesk],
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Actor | None],
        desk: NamedDependency[DeskParts],
    ) -> Response[DeskOut]:
        """Create a desk, or find the live one of that name this browser or account created or
        opened before (any other name: 404); with a session key."""
        openers = openers_of(request, viewer)
        opened = await asyncio.to_thread(desk.desks.init_desk, data, openers.ids)
        return _answer(_with_session(desk.hub, opened.desk, opened.creator_token), openers)

    @post(
        "/{desk_id:str}/session", status_code=200, dependencies=AS_VIEWER, refuses=("desk_gone",)
    )
    async def new_session(
        self,
        desk_id: FromPath[str],
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Actor | None],
        desk: NamedDependency[DeskParts],
        data: JSONBody[NewSession | None] = None,
    ) -> Response[DeskOut]:
        """A fresh client id and session key for the live desk of this link. Unlike init by
        name, it cannot land on a newer desk that took the name over. From now on the desk's
        name finds it for this browser and account."""
        found = await desk.reads.get_desk(desk_id_of(desk_id))
        openers = openers_of(request, viewer)
        await asyncio.to_thread(desk.desks.remember_openers, found.desk_id, found.name, openers.ids)
        client_id = new_client_id()
        session_key = desk.hub.session_keys.issue(found.desk_id, client_id)
        return _answer(state_out(found, client_id=client_id, session_key=session_key), openers)

    @get("/{desk_id:str}", refuses=("desk_gone", "invalid_version", "version_not_found"))
    async def get_desk(
        self,
        desk_id: FromPath[str],
        desk: NamedDependency[DeskParts],
        at_seq: Annotated[str | None, Parameter(
            description="a past version: the desk as it was at its op "
            "`desk_seq` (0 as created); 422 if not a whole number, 404 past the last op",
        )] = None,
    ) -> DeskOut:
        """The desk's current stickers (tombstones included), or as they were at `at_seq`;
        410 once it expired."""
        seq = parse_seq(at_seq)
        current = await desk.reads.get_desk(desk_id_of(desk_id))
        if seq is None or seq == current.desk_seq:
            return state_out(current)
        if seq > current.desk_seq:
            raise ApiError("version_not_found",
                           f"the desk has versions 0 to {current.desk_seq}", last=current.desk_seq)
        return state_out(await desk.reads.get_desk_at(current.desk_id, seq))

    @get("/{desk_id:str}/export", refuses=("desk_gone",))
    async def export_desk(
        self, desk_id: FromPath[str], desk: NamedDependency[DeskParts]
    ) -> DeskExport:
        """The whole desk as JSON, with every field's stamp."""
        found = await desk.reads.get_desk(desk_id_of(desk_id))
        return DeskExport(
            desk_link(found.desk_id),
            found.name,
            found.desk_seq,
            epoch_ms(desk.desks.clock()),
            found.stickers,
        )

    @post(
        "/{desk_id:str}/ops",
        status_code=200,
        refuses=(
            "bad_session_key", "desk_gone", SequenceGap, ClockSkew, UnknownSticker, TooManyStickers
        ),
    )
    async def post_op(
        self,
        desk_id: FromPath[str],
        data: JSONBody[ApplyStickerOp],
        request: Request[Any, Any, Any],
        desk: NamedDependency[DeskParts],
    ) -> AckOut:
        """Apply one op; answers after it is committed (a resend gets the same answer). The
        header `X-Desk-Session` carries the session key of the op's `client_id`."""
        key = desk_id_of(desk_id)
        hub = desk.hub
        if not hub.session_keys.valid(key, data.client_id, request.headers.get(SESSION_HEADER)):
            raise ApiError("bad_session_key", "this client_id needs its session key")
        ack = await hub.apply_op(key, data)
        return ack_out(ack)

    @post("/{desk_id:str}/finish", status_code=200, refuses=(NotCreator, "desk_gone"))
    async def finish_session(
        self,
        desk_id: FromPath[str],
        data: JSONBody[FinishSession],
        desk: NamedDependency[DeskParts],
    ) -> SessionOut:
        """The creator ends the collaboration session; the desk's epoch moves on."""
        epoch = await desk.hub.finish_session(desk_id_of(desk_id), data)
        return SessionOut(epoch)
