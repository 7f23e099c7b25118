"""The OpenAPI schema (`/schema/openapi.json`), true to what the API answers.

Litestar documents a handler's success; `describe(app)` adds, to every route of the composed app
in the schema, the refusals it can answer, each with the real body `{"error": code, "detail": …}`
(`Error<status>`, its `error` an enum of the codes the error map gives that status):

- shared, derived from the route: `503` everywhere (the database, NATS or the node away: send it
  again); `429` under `/api/` (per-IP limits); `400 401` and the bearer scheme for a route with
  a guard (`viewer`, `player`, `admin`: `api/auth.py`), `429` for players (per account) and `403`
  for admins; `400 413 415 422` for a route with a body; `400` for one with parameters; `404`
  for one with path parameters (a path that does not parse, or names nothing);
- declared by the route, in one keyword of its decorator: what its handler (or what it calls)
  refuses beyond those, by code or error class of `api/errors.py`, whose map gives the status:
  `@post("/{canvas_id:uuid}/pixels", refuses=("not_playing", CanvasClosed, OpReused))`.

Success responses that are not JSON say so where the handler is declared (`media_type=`, and
`responses=` with `NOT_MODIFIED` or `REDIRECT` for a 304 or a 307). Request and response structs
are documented as msgspec decodes them (`StrictStructs`): `additionalProperties: false` for
`forbid_unknown_fields`, and the constraints of list items and tuple lengths.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from litestar import Litestar
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, OpenAPIType, Reference, Schema, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from api.errors import CODES, ERROR_CLASSES, kind_of_class

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

REFUSES = "refuses"
ERROR_BODY = "error_body"
"""A layer's `opt` key naming the one body all its refusals have, when it is not the service's
`{error, detail}`: the relay's v1 API answers `{message, code}`, as JamJar clients read it."""
"""The decorator keyword (it lands in the handler's `opt`) naming what a route refuses."""
BEARER = "bearer"
GUARDS = {"viewer": (400, 401), "player": (400, 401, 429), "admin": (400, 401, 403, 429)}
"""The guards' dependency names (`AS_VIEWER`, `AS_PLAYER`, `AS_ADMIN`) and what they refuse."""
BODY = (400, 413, 415, 422)
DESCRIPTIONS = {
    400: "The request is malformed: `invalid_request` says which field, with `problems`",
    401: "Not signed in, or the token is invalid, expired or signed out",
    403: "Signed in, but not allowed",
    404: "Nothing here by that name",
    409: "In conflict with the current state",
    410: "Gone for good",
    413: "The body is too large",
    415: "The body is not sent as `application/json`",
    422: "Well-formed but refused: a value out of range or a text with control characters",
    429: "Too fast: wait `wait_ms` (also in `Retry-After`) and send it again",
    503: "Unavailable for a moment, nothing was changed: wait `wait_ms` and send it again",
}
NOT_MODIFIED = ResponseSpec(None, description="Not Modified: `If-None-Match` names the current ETag")
REDIRECT = ResponseSpec(
    None, description="Temporary Redirect: `Location` names the immutable URL of the version"
)
SECURITY = Components(
    security_schemes={
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="An access token from `POST /api/auth/google|telegram|refresh`",
        )
    }
)


class ValidationDetail(msgspec.Struct):
    """The `detail` of `400 invalid_request`: what failed, and each field's problem."""

    message: str
    problems: list[dict[str, Any]]


def codes_by_status() -> dict[int, set[str]]:
    """Every code the error map can answer, by status: the codes named by handlers, and those
    of the mapped error classes and their subclasses."""
    found: dict[int, set[str]] = {}
    for code, kind in CODES.items():
        found.setdefault(kind.status, set()).add(code)
    for cls in _with_subclasses(ERROR_CLASSES):
        wire_code = getattr(cls, "code", None)
        cls_kind = kind_of_class(cls)
        if isinstance(wire_code, str) and cls_kind is not None:
            found.setdefault(cls_kind.status, set()).add(wire_code)
    return found


def _with_subclasses(classes: Iterable[type[Exception]]) -> Iterator[type[Exception]]:
    for cls in classes:
        yield cls
        yield from _with_subclasses(cls.__subclasses__())


@functools.cache
def error_body(status: int, codes: tuple[str, ...]) -> type[msgspec.Struct]:
    """The body of a refusal with this status (a component `Error<status>`)."""
    return msgspec.defstruct(
        f"Error{status}",
        [
            ("error", Literal[codes]),  # type: ignore[valid-type]
            ("detail", str | ValidationDetail),
            ("wait_ms", int | msgspec.UnsetType, msgspec.UNSET),
            ("field", str | msgspec.UnsetType, msgspec.UNSET),
        ],
        kw_only=True,
    )


def refusing(*refused: str | type[Exception]) -> dict[str, Any]:
    """What every route of a controller refuses, as its `opt`: `opt = refusing("forbidden")`."""
    return {REFUSES: refused}


def status_of(refused: str | type[Exception]) -> int:
    """The status of a code or an error class, from the error map."""
    if isinstance(refused, str):
        if refused not in CODES:
            raise KeyError(f"{refused!r} is not a code of api/errors.py (CODES)")
        return CODES[refused].status
    kind = kind_of_class(refused)
    if kind is None:
        raise KeyError(f"{refused.__qualname__} is not in api/errors.py (ERROR_CLASSES)")
    return kind.status


def error_statuses(handler: HTTPRouteHandler, route: HTTPRoute) -> set[int]:
    """What a route's handler can refuse with: the shared statuses and those it declares."""
    statuses = {503}
    if route.path.startswith("/api/"):
        statuses.add(429)
    dependencies = handler.resolve_dependencies()
    for guard, refused in GUARDS.items():
        if guard in dependencies:
            statuses.update(refused)
    if handler.parsed_data_field is not None:
        statuses.update(BODY)
    if route.path_parameters:
        statuses.update((400, 404))
    if _has_parameters(handler, route, dependencies):
        statuses.add(400)
    for layer in handler.ownership_layers:  # the handler's own, its controller's, …
        statuses.update(status_of(refused) for refused in (layer.opt or {}).get(REFUSES, ()))
    return statuses


def own_error_body(handler: HTTPRouteHandler) -> type[msgspec.Struct] | None:
    """The body a handler's layers name for its refusals (`ERROR_BODY`), if any."""
    for layer in handler.ownership_layers:
        body = (layer.opt or {}).get(ERROR_BODY)
        if body is not None:
            return body  # type: ignore[no-any-return]
    return None


_RESERVED = {"request", "state", "data", "headers", "cookies", "query", "scope", "socket", "body"}


def _has_parameters(handler: HTTPRouteHandler, route: HTTPRoute, dependencies: Any) -> bool:
    names = set(handler.parsed_fn_signature.parameters) - _RESERVED - set(dependencies)
    return bool(names - set(route.path_parameters))


def describe(app: Litestar) -> None:
    """Give every route of `app` in the schema its refusals and its security (see the module).
    Call it once the app is built and before its schema is first asked for."""
    by_status = {status: tuple(sorted(codes)) for status, codes in codes_by_status().items()}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            statuses = error_statuses(handler, route)
            own_body = own_error_body(handler)
            responses = {
                status: ResponseSpec(
                    own_body or error_body(status, by_status[status]),
                    generate_examples=False,
                    description=DESCRIPTIONS.get(status, "Refused"),
                )
                for status in sorted(statuses)
            }
            handler.responses = {**responses, **(handler.responses or {})}
            dependencies = handler.resolve_dependencies()
            if "player" in dependencies or "admin" in dependencies:
                handler.security = [{BEARER: []}]
            elif "viewer" in dependencies:
                handler.security = [{}, {BEARER: []}]


class StrictStructs(StructSchemaPlugin):
    """Structs as msgspec decodes them: what Litestar's schema of a struct leaves out."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        result: Schema | Reference = super().to_openapi_schema(field_definition, schema_creator)
        schema = (
            schema_creator.schema_registry.from_reference(result).schema
            if isinstance(result, Reference)
            else result
        )
        info = msgspec.inspect.type_info(field_definition.type_)
        assert isinstance(info, msgspec.inspect.StructType)
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        for field in info.fields:
            prop = (schema.properties or {}).get(field.encode_name)
            if isinstance(prop, Schema):
                _constrain(prop, field.type)
        return result  # type: ignore[return-value]


def _constrain(schema: Schema, info: msgspec.inspect.Type) -> None:
    """Copy what Litestar drops from a field's type onto its schema: the constraints of list,
    tuple and dict items and of dict keys, tuple lengths (also through an optional's `oneOf`)."""
    if isinstance(info, msgspec.inspect.UnionType):
        for option, option_info in zip(schema.one_of or [], info.types, strict=False):
            if isinstance(option, Schema):
                _constrain(option, option_info)
    elif isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.SetType)):
        if isinstance(schema.items, Schema):
            _constrain(schema.items, info.item_type)
    elif isinstance(info, msgspec.inspect.TupleType):
        schema.min_items = schema.max_items = len(info.item_types)
        for item, item_info in zip(schema.prefix_items or [], info.item_types, strict=False):
            if isinstance(item, Schema):
                _constrain(item, item_info)
    elif isinstance(info, msgspec.inspect.DictType):
        if isinstance(schema.additional_properties, Schema):
            _constrain(schema.additional_properties, info.value_type)
        if isinstance(info.key_type, msgspec.inspect.StrType) and info.key_type.pattern:
            schema.property_names = Schema(type=OpenAPIType.STRING)
            _constrain(schema.property_names, info.key_type)
        schema.max_properties = info.max_length
        schema.min_properties = info.min_length
    else:
        _scalar(schema, info)


def _scalar(schema: Schema, info: msgspec.inspect.Type) -> None:
    if isinstance(info, msgspec.inspect.StrType):
        schema.pattern = info.pattern or schema.pattern
        schema.min_length = info.min_length if info.min_length is not None else schema.min_length
        schema.max_length = info.max_length if info.max_length is not None else schema.max_length
    elif isinstance(info, (msgspec.inspect.IntType, msgspec.inspect.FloatType)):
        for bound, attribute in _BOUNDS.items():
            if getattr(info, bound) is not None:
                setattr(schema, attribute, getattr(info, bound))


_BOUNDS = {
    "ge": "minimum", "le": "maximum", "gt": "exclusive_minimum", "lt": "exclusive_maximum"
}
