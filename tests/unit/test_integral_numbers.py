"""A number with no fraction is the integer it is (JSON has one number type, and JSON Schema's
`integer` admits `5.0`); anything else stays refused as strict decoding refuses it."""

from __future__ import annotations

import uuid

import pytest

from api.contexts import all_contexts
from api.node import Node
from tests.support.api import http_to, identity_parts, unit_settings

PIXELS = f"/api/canvas/{uuid.uuid4()}/pixels"


@pytest.mark.parametrize(
    "body,status",
    [
        (b'{"x": 1, "y": 2, "colour": 1}', 401),
        (b'{"x": 1.0, "y": 2e0, "colour": 1.0}', 401),
        (b'{"x": 1.5, "y": 2, "colour": 1}', 400),
        (b'{"x": "1", "y": 2, "colour": 1}', 400),
        (b'{"x": 1.0, "y": 2, "colour": 1, "extra": 1.0}', 400),
    ],
)
async def test_integral_numbers_are_integers_and_nothing_else_is_coerced(body, status):
    """The body is decoded before who is asking is checked: a body that decodes meets the 401."""
    settings = unit_settings()
    node = Node(None, all_contexts(), parts={"identity": identity_parts(settings)})  # type: ignore[arg-type]
    async with http_to(settings, node) as http:
        response = await http.post(
            PIXELS, content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == status, response.text
