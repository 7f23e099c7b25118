"""The quiz's integration fixtures: a node whose images live in the test's own folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest_asyncio

from api.app import Node, build
from infra.settings import Settings
from tests.integration.conftest import stop


@pytest_asyncio.fixture
async def settings(
    make_settings: Callable[..., Awaitable[Settings]], tmp_path: Path
) -> Settings:
    return await make_settings(
        quiz={"blob_dir": str(tmp_path / "images"), "gc_interval_s": 0}, rate_ip_per_s=0,
        rate_read_ip_per_s=0, identity={"rate_account_per_s": 0},
    )


@pytest_asyncio.fixture
async def parts(settings: Settings) -> AsyncIterator[Node]:
    running = await build(settings)
    yield running
    await stop(running)
