"""Every endpoint that takes a JSON body takes it only when it is sent as JSON."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from api.app import create_app
from api.contexts import all_contexts
from api.node import Node
from tests.support.api import http_to, unit_settings

_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")
_EXAMPLES = {"uuid": "6939032d-abe2-4c97-9a8d-57cd462a1f96", "int": "1"}
"""Fixed, so that the tests' ids are the same in every process (pytest-xdist's workers)."""


def json_endpoints() -> list[tuple[str, str]]:
    """(method, path) of every handler of every context with a `data` parameter, path
    parameters filled in."""
    app = create_app(unit_settings(), node=Node(None, all_contexts()))  # type: ignore[arg-type]
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = _PARAMETER.sub(lambda m: _EXAMPLES.get(m.group(2), "x"), route.path)
        for handler in route.route_handlers:
            if handler.parsed_data_field is not None:
                found.update((method, path) for method in handler.http_methods)
    return sorted(found)


def test_the_endpoints_taking_json_are_found():
    assert ("POST", "/api/desk/init") in json_endpoints()


@pytest.mark.parametrize("method,path", json_endpoints())
@pytest.mark.parametrize("content_type", ["text/plain", None])
async def test_a_body_sent_as_anything_but_json_is_415(method, path, content_type):
    """Before any handler, dependency or sign-in check: a node with no running parts answers."""
    settings = unit_settings()
    headers = {} if content_type is None else {"Content-Type": content_type}
    async with http_to(settings, Node(None, all_contexts())) as http:  # type: ignore[arg-type]
        response = await http.request(method, path, content=b"{}", headers=headers)
    assert (response.status_code, response.json()["error"]) == (415, "unsupported_media_type")
