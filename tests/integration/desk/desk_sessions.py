"""Desk session keys in the desk tests: the server's own keys sign every test client's ops.

`signed_desk_clients` (autouse where imported) remembers the keys of the test's `parts` and makes
the `client` fixture send `X-Desk-Session` with every op; `session_key` gives a socket's hello its
key."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import msgspec
import pytest

from api.app import Node
from commands.desk.desks import desk_id_of
from infra.desk.keys import DeskSessionKeys

_keys: list[DeskSessionKeys] = []


def session_key(desk_link: str, client_id: str) -> str:
    return _keys[0].issue(desk_id_of(desk_link), client_id)


async def _sign(request: httpx.Request) -> None:
    parts = request.url.path.split("/")  # /api/desk/<link>/ops
    if len(parts) == 5 and parts[4] == "ops" and "X-Desk-Session" not in request.headers:
        with_id = msgspec.json.decode(request.content)
        if isinstance(with_id, dict) and isinstance(with_id.get("client_id"), str):
            request.headers["X-Desk-Session"] = session_key(parts[3], with_id["client_id"])


@pytest.fixture(autouse=True)
def signed_desk_clients(parts: Node, request: pytest.FixtureRequest) -> Iterator[None]:
    _keys[:] = [parts["desk"].hub.session_keys]
    if "client" in request.fixturenames:
        client: httpx.AsyncClient = request.getfixturevalue("client")
        client.event_hooks["request"].append(_sign)
    yield
    _keys.clear()
