"""A node builds only what its roles run: the log publisher and the projector hold no writer."""

from __future__ import annotations

import threading

import pytest

from api.app import build
from infra.settings import Settings
from tests.integration.conftest import stop


def writer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("writer-")]


@pytest.mark.parametrize("role", ["publisher", "projections"])
async def test_a_background_role_starts_no_writer_and_no_context(settings: Settings, role: str):
    before = writer_threads()
    node = await build(settings, roles={role})
    try:
        assert writer_threads() == before
        assert node.parts == {}
        assert (bool(node.publishers), bool(node.runners)) == (
            role == "publisher",
            role == "projections",
        )
    finally:
        await stop(node)


async def test_an_api_node_runs_every_context_and_no_background_role(settings: Settings):
    node = await build(settings, roles={"api"})
    try:
        assert set(node.parts) == {"identity", "canvas", "feedback", "desk", "relay"}
        assert (node.publishers, node.runners) == ([], [])
    finally:
        await stop(node)
