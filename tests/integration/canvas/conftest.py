"""What the canvas's history tests share."""

from __future__ import annotations

import httpx
import pytest

from api.app import build, create_app
from tests.integration.conftest import stop


@pytest.fixture
async def history(make_settings):
    """A node whose ring keeps 4 versions and whose history keeps a keyframe every 7, with the
    maps in every other one."""
    settings = await make_settings(canvas={"delta_ring": 4, "snapshot_every": 5},
                                   history={"keyframe_every": 7, "maps_every": 2})
    node = await build(settings)
    transport = httpx.ASGITransport(app=create_app(settings, node=node))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield node, client
    await stop(node)
