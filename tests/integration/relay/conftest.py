"""Relay rooms on a real node (PostgreSQL, NATS) served by uvicorn on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NamedTuple

import httpx
import pytest_asyncio

from api.app import Node, build
from infra.settings import Settings
from tests.integration.conftest import serving, stop


class Served(NamedTuple):
    node: Node
    port: int
    http: httpx.AsyncClient


@pytest_asyncio.fixture
async def serve_relay(
    make_settings: Callable[..., Awaitable[Settings]],
) -> AsyncIterator[Callable[..., Awaitable[Served]]]:
    """`await serve_relay(relay={...})`: a node with these relay settings, on a real server."""
    running: list[tuple[Node, Any, httpx.AsyncClient]] = []

    async def start(*, beside: Served | None = None, **overrides: Any) -> Served:
        """`beside`: a second node of the same service (same schema, stream and buckets)."""
        settings = beside.node.settings if beside is not None else await make_settings(**overrides)
        node = await build(settings)
        context = serving(node)
        port = await context.__aenter__()
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
        running.append((node, context, http))
        return Served(node, port, http)

    yield start
    for node, context, http in reversed(running):
        await http.aclose()
        await context.__aexit__(None, None, None)
        await stop(node)


@pytest_asyncio.fixture
async def relay(serve_relay: Callable[..., Awaitable[Served]]) -> Served:
    return await serve_relay()
