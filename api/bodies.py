"""Request bodies: JSON sent as JSON, decoded strictly into what the handler takes.

A body a handler takes (`data: JSONBody[T]`) must come with `Content-Type: application/json` (a
charset may follow): anything else is `415 unsupported_media_type`. It is decoded by msgspec's
strict mode, as the sockets decode their messages: `"1"` is not a number and `0` is not `false`
(`400 invalid_request`, told as Litestar tells its other validation errors). Litestar itself
decodes bodies of any content type and converts them leniently, so the app's request class
(`create_app`) takes the decoding over.

A body is checked before the handler's dependencies run (who is asking, rate limits), as Litestar
checks a body's JSON syntax.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.handlers import BaseRouteHandler

from api.errors import ApiError

JSON = "application/json"


def require_json(request: Request[Any, Any, Any]) -> None:
    """415 unless the request says its body is JSON."""
    media_type, _ = request.content_type
    if media_type != JSON:
        raise ApiError(
            "unsupported_media_type", f"send the body as JSON, with `Content-Type: {JSON}`"
        )


class JsonBodyRequest(Request[Any, Any, Any]):
    """Litestar's request, whose JSON body is checked and decoded here (see the module)."""

    async def json(self) -> Any:
        """The body as the handler's `data` type (Litestar asks only when there is a body)."""
        require_json(self)
        body = await self.body()
        try:
            return _decoder(_data_type(self.route_handler)).decode(body)
        except msgspec.ValidationError as error:
            raise ValidationException(
                f"Validation failed for {self.method} {self.url.path}", extra=[_problem(error)]
            ) from None
        except msgspec.DecodeError as error:
            raise ApiError("bad_request", str(error)) from None


def _data_type(handler: BaseRouteHandler) -> Any:
    field = handler.parsed_data_field
    return Any if field is None else field.annotation


@functools.cache
def _decoder(data_type: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(data_type, strict=True)


def _problem(error: msgspec.ValidationError) -> dict[str, str]:
    """As Litestar words a body's problem: the message, the field's path (`data` for the body
    as a whole), the source."""
    message, _, where = str(error).partition(" - at `$")
    key = where.removeprefix(".").removesuffix("`") or "data"
    return {"message": message, "key": key, "source": "body"}
