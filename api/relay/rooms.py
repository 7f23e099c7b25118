"""The rooms HTTP handler, `/v1/api`: the JamJar relay's v1 JSON API, as its clients call it.

- `GET /v1/api/summary`: `{"number_of_rooms", "max_clients", "current_clients",
  "committed_clients"}`;
- `GET /v1/api/rooms`: every room's info; `POST /v1/api/rooms` `{"max_clients": int32,
  "protocol"?: "standard" | "mesh", "record"?: bool}`: a new room's info `{"id", "secret",
  "max_clients", "current_clients", "room_status"}`;
- `GET /v1/api/rooms/{id}`; `DELETE /v1/api/rooms/{id}`: closes the room, every client is
  disconnected.

Answers are wrapped as the original server wraps them, `{"code": 200, "data": …}`; errors are
`{"message", "code"}` with the HTTP status in `code`. With `TESSERA_RELAY_API_KEY` set,
creating, listing and deleting need it (`Authorization: Bearer <key>` or `X-Api-Key: <key>`).
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.openapi import ERROR_BODY, REFUSES
from api.relay.parts import RelayParts
from domain.relay.errors import ApiKeyRequired, BadRelayRequest, RoomNotFound, TooManyClients

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class CreateRoom(msgspec.Struct, forbid_unknown_fields=False):
    max_clients: int
    protocol: str | None = None
    record: bool = False


def _ok(request: Request[Any, Any, Any], data: Any = None) -> Response[Any]:
    body: dict[str, Any] = {"code": 200}
    if data is not None:
        body["data"] = data
    return Response(body, status_code=200)


def _room_number(room_id: str) -> int:
    try:
        number = int(room_id)
    except ValueError:
        number = INT32_MAX + 1
    if not INT32_MIN <= number <= INT32_MAX:
        raise BadRelayRequest("invalid room ID provided, must be a 32-bit integer")
    return number


def _require_key(request: Request[Any, Any, Any], relay: NamedDependency[RelayParts]) -> None:
    key = relay.settings.api_key
    if not key:
        return
    given = request.headers.get("x-api-key") or ""
    authorization = request.headers.get("authorization") or ""
    if authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    if not hmac.compare_digest(given.encode(), key.encode()):
        raise ApiKeyRequired("this relay needs its API key for that")


class V1Error(msgspec.Struct):
    """The relay v1 API's refusals, as the original server writes them."""

    message: str
    code: int
    """The HTTP status again."""


class RoomsController(Controller):
    path = "/v1/api"
    tags = ("relay",)
    opt = {  # noqa: RUF012  (Litestar's layer option, read once)
        ERROR_BODY: V1Error,
        REFUSES: (ApiKeyRequired, BadRelayRequest, RoomNotFound, TooManyClients),
    }

    @get("/summary")
    async def summary(
        self, request: Request[Any, Any, Any], relay: NamedDependency[RelayParts]
    ) -> Response[Any]:
        return _ok(request, relay.cluster.summary())

    @get("/rooms")
    async def list_rooms(
        self, request: Request[Any, Any, Any], relay: NamedDependency[RelayParts]
    ) -> Response[Any]:
        _require_key(request, relay)
        return _ok(request, relay.cluster.infos())

    @post("/rooms", status_code=200)
    async def create_room(
        self, request: Request[Any, Any, Any], relay: NamedDependency[RelayParts]
    ) -> Response[Any]:
        _require_key(request, relay)
        body = await request.body()
        if not body:
            raise BadRelayRequest("missing body in request")
        try:
            wanted = msgspec.json.decode(body, type=CreateRoom)
        except msgspec.DecodeError as error:  # a ValidationError too
            raise BadRelayRequest(f"invalid room creation request provided; {error}") from None
        if not INT32_MIN <= wanted.max_clients <= INT32_MAX:
            raise BadRelayRequest("max_clients must be a 32-bit integer")
        room = await relay.cluster.create(wanted.max_clients, wanted.protocol, wanted.record)
        return _ok(request, room.info())

    @get("/rooms/{room_id:str}")
    async def get_room(
        self,
        request: Request[Any, Any, Any],
        relay: NamedDependency[RelayParts],
        room_id: FromPath[str],
    ) -> Response[Any]:
        return _ok(request, relay.cluster.info(_room_number(room_id)))

    @delete("/rooms/{room_id:str}", status_code=200)
    async def delete_room(
        self,
        request: Request[Any, Any, Any],
        relay: NamedDependency[RelayParts],
        room_id: FromPath[str],
    ) -> Response[Any]:
        _require_key(request, relay)
        await relay.cluster.close(_room_number(room_id))
        await asyncio.sleep(0)  # the closes are scheduled: let them start before answering
        return _ok(request)
