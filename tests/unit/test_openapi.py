"""The OpenAPI schema of the composed app tells what every route answers (`api/openapi.py`):
every refusal with the real body, binary bodies as binary, the structs as msgspec decodes them."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar, Response
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from api.app import create_app
from api.contexts import all_contexts
from api.errors import CODES
from api.node import Node
from api.openapi import codes_by_status, own_error_body, status_of
from tests.support.api import unit_settings

JSON = "application/json"


def composed() -> Litestar:
    """The app of every context, as `tessera serve` composes it (no parts: nothing is served)."""
    return create_app(unit_settings(), node=Node(None, all_contexts(), parts={}))


APP = composed()
SCHEMA: dict[str, Any] = APP.openapi_schema.to_schema()


def operations() -> list[tuple[str, str, HTTPRouteHandler]]:
    found = []
    for route in APP.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.resolve_include_in_schema():
                for method in sorted(handler.http_methods):
                    found.append((route.path_format.rstrip("/") or "/", method.lower(), handler))
    # In one order in every process (the routes' is not): pytest-xdist's workers must collect
    # the same tests in the same order.
    return sorted(found, key=lambda operation: operation[:2])


OPERATIONS = operations()


def ids(operation: tuple[str, str, HTTPRouteHandler]) -> str:
    return f"{operation[1].upper()} {operation[0]}"


def documented(path: str, method: str) -> dict[str, Any]:
    return SCHEMA["paths"][path][method]  # type: ignore[no-any-return]


def test_every_context_has_routes_in_the_schema():
    tags = {tag for path in SCHEMA["paths"].values() for op in path.values()
            if isinstance(op, dict) for tag in op.get("tags", [])}
    assert {"canvas", "desk", "identity", "feedback", "admin"} <= tags


@pytest.mark.parametrize("operation", OPERATIONS, ids=ids)
def test_every_refusal_a_route_documents_has_the_one_error_body(operation):
    path, method, handler = operation
    responses = documented(path, method)["responses"]
    refusals = {status: r for status, r in responses.items() if int(status) >= 400}
    shared = {"429", "503"} if path.startswith("/api/") else {"503"}  # rate limits: /api/ only
    assert shared <= refusals.keys(), f"{ids(operation)} misses the shared refusals"
    own = own_error_body(handler)
    for status, response in refusals.items():
        schema = own.__name__ if own is not None else f"Error{status}"
        assert response["content"] == {
            JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        }, f"{ids(operation)} documents {status} with another body"


@pytest.mark.parametrize("operation", OPERATIONS, ids=ids)
def test_a_guarded_route_documents_its_scheme_and_who_is_refused(operation):
    path, method, handler = operation
    dependencies = handler.resolve_dependencies()
    op = documented(path, method)
    if "player" in dependencies or "admin" in dependencies:
        assert op["security"] == [{"bearer": []}]
        assert {"401", "429"} <= op["responses"].keys()
    if "admin" in dependencies:
        assert "403" in op["responses"]
    if "viewer" in dependencies:
        assert op["security"] == [{}, {"bearer": []}]
        assert "401" in op["responses"]
    if not {"viewer", "player", "admin"} & dependencies.keys():
        assert "security" not in op
    assert SCHEMA["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


@pytest.mark.parametrize("operation", OPERATIONS, ids=ids)
def test_a_route_with_a_body_documents_its_refusals(operation):
    path, method, handler = operation
    if handler.parsed_data_field is None:
        return
    op = documented(path, method)
    assert {"400", "413", "415", "422"} <= op["responses"].keys()
    assert list(op["requestBody"]["content"]) == [JSON]


@pytest.mark.parametrize("operation", OPERATIONS, ids=ids)
def test_a_binary_body_is_not_documented_as_json(operation):
    path, method, handler = operation
    returns = handler.parsed_fn_signature.return_type
    success = documented(path, method)["responses"][str(handler.status_code)]
    if returns.is_subclass_of(Response) and returns.inner_types and returns.inner_types[0].annotation is bytes:
        assert JSON not in (success.get("content") or {}), f"{ids(operation)} returns bytes"
    if handler.status_code in (301, 302, 303, 307, 308):
        assert "content" not in success, f"{ids(operation)} redirects with no body"


def named_codes(handler: HTTPRouteHandler) -> set[str]:
    """The codes a handler's own body names (`raise ApiError("code", …)`)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(handler.fn)))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "ApiError"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


@pytest.mark.parametrize("operation", OPERATIONS, ids=ids)
def test_every_code_a_handler_names_is_documented(operation):
    path, method, handler = operation
    responses = documented(path, method)["responses"]
    for code in named_codes(handler):
        assert str(CODES[code].status) in responses, f"{ids(operation)} answers {code}"


def test_each_error_body_enumerates_the_codes_of_its_status():
    schemas = SCHEMA["components"]["schemas"]
    for status, codes in codes_by_status().items():
        if f"Error{status}" in schemas:
            body = schemas[f"Error{status}"]
            error = body["properties"]["error"]
            assert set(error["enum"] if "enum" in error else [error["const"]]) == codes
            assert set(body["required"]) == {"error", "detail"}
    assert "not_found" in schemas["Error404"]["properties"]["error"]["enum"]
    assert "cooldown" in schemas["Error429"]["properties"]["error"]["enum"]


def test_structs_are_documented_as_msgspec_decodes_them():
    schemas = SCHEMA["components"]["schemas"]
    create = schemas["CreateCanvas"]
    assert create["additionalProperties"] is False
    assert create["properties"]["palette"]["items"]["pattern"] == r"^#[0-9a-fA-F]{6}$"
    stamp = schemas["ApplyStickerOp"]["properties"]["stamp"]
    assert stamp["minItems"] == stamp["maxItems"] == 3
    assert "additionalProperties" not in schemas["CanvasOut"]  # answers may grow


async def test_a_method_not_allowed_says_which_are():
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        response = await http.put("/api/auth/whoami")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize("path", sorted(SCHEMA["paths"]))
async def test_options_names_every_method_of_its_path(path):
    methods = {m.upper() for m in SCHEMA["paths"][path] if m in {"get", "post", "put", "delete", "patch"}}
    url = re.sub(r"\{(\w+)\}", lambda m: str(uuid.uuid4()) if m[1].endswith("_id") else "1", path)
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        response = await http.options(url)
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == methods | {"OPTIONS"}


def test_a_route_that_refuses_what_the_map_does_not_know_fails_to_compose():
    class Unmapped(Exception):
        pass

    assert status_of("canvas_not_found") == 404
    with pytest.raises(KeyError):
        status_of("no_such_code")
    with pytest.raises(KeyError):
        status_of(Unmapped)
