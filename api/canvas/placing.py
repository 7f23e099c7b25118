"""A pixel placement, and its common case served beneath Litestar's handler machinery.

`POST /api/canvas/{id}/pixels` is most of what an API node serves during a game. Profiled in one
process through the ASGI interface, a placement cost 145 µs of the event loop, 61 µs of them
Litestar's work around the handler (the kwargs model reading the body, the signature model
parsing it, the player's dependency resolved, the response built and rendered), while a bare
route taking the same body costs 52 µs in all.

`fast_placement`, the route's own middleware, serves the request the players' pages send: a
JSON body of the length it announces that decodes strictly into `PlacePixel`. It identifies the
player as the route's dependency does (`player_of`), places the pixel with the function the
handler calls (`place`) and answers what the handler answers; a refusal goes through the app's
one exception handler, as the handler's would. Served so, a placement costs 89 µs of the loop,
and an API node's CPU a placement under uvicorn went from 1.5x a bare route's to 0.8x
(`scripts/bench_canvas.py --split`, `http_cpu_over_bare`). Any other request (another content
type, no length, too large, a body that does not decode) goes on, its body replayed, to the
handler, which answers it as every route answers (`api/bodies.py`): the refusals of malformed
input come from one place. The app's middleware (metrics, per-IP limits) wrap both alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast
from uuid import UUID

import msgspec
from litestar import Request
from litestar.types import (
    ASGIApp,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from api.auth import gate_of, player_of
from api.canvas.parts import CanvasParts, provide_canvas
from api.errors import ApiError, handle_error
from commands.actor import Actor
from commands.canvas.wire import PlacePixel
from domain.roster import PlayerState


class PlacementOut(msgspec.Struct):
    version: int
    replayed: bool = False


async def place(
    canvas: CanvasParts, canvas_id: UUID, player: Actor, data: PlacePixel
) -> PlacementOut:
    """Seat the player if there is room (else `not_playing`), place the pixel, answer after its
    commit, and keep the player playing through their cooldown."""
    key = str(canvas_id)
    await _seat_player(canvas, canvas_id, key, player)
    placement = await canvas.canvases.execute(canvas_id, player, data)
    cooldown_ms = 0 if player.is_admin else canvas.canvases.cooldown_ms(canvas_id)
    canvas.presence.acted(key, player.user, cooldown_ms)
    return PlacementOut(placement.version, placement.replayed)


async def _seat_player(canvas: CanvasParts, canvas_id: UUID, key: str, player: Actor) -> None:
    """Let the player in when there is room (`key`: the canvas's id as presence keys it)."""
    if canvas.presence.is_playing(key, player.user):
        return
    await canvas.canvases.open_writer(canvas_id)  # no roster for a canvas that does not exist
    standing = await canvas.presence.join(key, player.user)
    if standing.state is not PlayerState.PLAYING:
        raise ApiError(
            "not_playing",
            f"the canvas has {standing.players} players: you are {standing.state}",
            position=standing.position,
            queue_length=standing.queue_length,
        )


_JSON_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8",
                         b"application/json;charset=utf-8"})
_ANSWER_HEADERS = [(b"content-type", b"application/json")]
_decode = msgspec.json.Decoder(PlacePixel, strict=True).decode
_encode = msgspec.json.Encoder().encode


def fast_placement(app: ASGIApp) -> ASGIApp:
    """The placement route's middleware: serves the common case, hands the rest to `app` (the
    route's handler)."""

    async def placing(scope: Scope, receive: Receive, send: Send) -> None:
        http = cast("HTTPScope", scope)
        messages, body = await _body(http, receive)
        data = _decoded(http, body)
        if data is None:
            await app(scope, _replaying(messages, receive), send)
            return
        state = scope["litestar_app"].state
        try:
            player = player_of(gate_of(state), _Headers(http["headers"]))
            canvas_id = cast("UUID", scope["path_params"]["canvas_id"])  # parsed by the router
            answer = await place(provide_canvas(state), canvas_id, player, data)
        except Exception as error:  # noqa: BLE001 - told as the app tells every refusal
            request: Request[Any, Any, Any] = Request(scope, _replaying(messages, receive), send)
            refused = handle_error(request, error)
            await refused.to_asgi_response(app=None, request=request)(scope, receive, send)
            return
        encoded = _encode(answer)
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 200,
            "headers": [*_ANSWER_HEADERS, (b"content-length", b"%d" % len(encoded))],
        }
        await send(start)
        await send({"type": "http.response.body", "body": encoded, "more_body": False})

    return placing


async def _body(scope: HTTPScope, receive: Receive) -> tuple[list[ReceiveMessage], bytes | None]:
    """The messages read, and the body when it came whole within the length it announced (which
    must be within the app's limit); None otherwise, what was read left for the handler."""
    length = _content_length(scope)
    limit = scope["litestar_app"].request_max_body_size
    if length is None or (isinstance(limit, int) and length > limit):
        return [], None
    messages: list[ReceiveMessage] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(cast("bytes", message.get("body", b"")))
        if size > length:
            return messages, None
        if not message.get("more_body", False):
            break
    if size != length:
        return messages, None
    bodies = [cast("bytes", message.get("body", b"")) for message in messages]
    return messages, bodies[0] if len(bodies) == 1 else b"".join(bodies)


def _content_length(scope: HTTPScope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _decoded(scope: HTTPScope, body: bytes | None) -> PlacePixel | None:
    """The placement, when the body says JSON and decodes strictly into one."""
    if body is None:
        return None
    for name, value in scope["headers"]:
        if name == b"content-type":
            if value.lower() not in _JSON_TYPES:
                return None
            try:
                return _decode(body)
            except msgspec.MsgspecError:
                return None
    return None


class _Headers:
    """The request's headers as the gate reads them (`get`), from the scope's list as it is:
    names come lower-cased from the server (ASGI says so), and the first of a name counts, as
    with Litestar's `Headers`."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self._raw = raw

    def get(self, name: str, default: str | None = None) -> str | None:
        key = name.lower().encode("latin-1")
        for found, value in self._raw:
            if found == key:
                return value.decode("latin-1")
        return default


def _replaying(messages: list[ReceiveMessage], receive: Receive) -> Receive:
    """`receive`, the messages already read first."""
    pending = list(messages)

    async def replay() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
