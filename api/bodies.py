"""Request bodies: JSON sent as JSON, decoded strictly into what the handler takes.

A body a handler takes (`data: JSONBody[T]`) must come with `Content-Type: application/json` (a
charset may follow): anything else is `415 unsupported_media_type`. It is decoded by msgspec's
strict mode, as the sockets decode their messages: `"1"` is not a number and `0` is not `false`
(`400 invalid_request`, told as Litestar tells its other validation errors); a number with no
fraction (`5.0`) is the integer it is, as JSON Schema's `integer` has it. Litestar itself
decodes bodies of any content type and converts them leniently, so the app's request class
(`create_app`) takes the decoding over.

A body is checked before the handler's dependencies run (who is asking, rate limits), as Litestar
checks a body's JSON syntax.
"""

from __future__ import annotations

import contextlib
import functools
import re
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
        data_type = _data_type(self.route_handler)
        try:
            return _decoder(data_type).decode(body)
        except msgspec.ValidationError as error:
            if _INTEGRAL_FLOAT.search(str(error)):
                with contextlib.suppress(msgspec.ValidationError):
                    return _integral_numbers_as_ints(body, data_type)
            raise ValidationException(
                f"Validation failed for {self.method} {self.url.path}", extra=[_problem(error)]
            ) from None
        except msgspec.DecodeError as error:
            raise ApiError("bad_request", str(error)) from None


_INTEGRAL_FLOAT = re.compile(r"Expected `int( \| null)?`, got `float`")


def _integral_numbers_as_ints(body: bytes, data_type: Any) -> Any:
    """The body, its numbers with no fraction (`5.0`, `1e3`) read as the integers they are: JSON
    has one number type, and JSON Schema's `integer` admits them. Nothing else is coerced."""
    return msgspec.convert(_integral(msgspec.json.decode(body)), data_type, strict=True)


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


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
