"""The notification outbox in its own process (`tessera project`), killed and started again:
every notice still goes out once."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest_asyncio

from api.app import create_app
from api.contexts import all_contexts
from api.node import API, PUBLISHER, build_node
from infra.settings import Settings
from tests.integration.billiards.social_helpers import a_profile
from tests.integration.billiards.test_notifications import ANN, BOB, a_club_calling, ask, sent_to
from tests.integration.conftest import stop, until
from tests.support import cli
from tests.support.crash import environment_of
from tests.support.signing import BOT_TOKEN
from tests.support.telegram_bot_api import BotApiStandIn


@pytest_asyncio.fixture
async def bot_api() -> AsyncIterator[BotApiStandIn]:
    stand_in = BotApiStandIn()
    yield stand_in
    stand_in.close()


async def test_a_projector_killed_and_started_again_sends_each_notice_once(
    make_settings: Callable[..., Awaitable[Settings]], bot_api: BotApiStandIn, tmp_path: Path
):
    settings = await make_settings(
        telegram={"bot_token": BOT_TOKEN, "api_url": bot_api.url},
        billiards={"web_app_url": "https://t.example/billiards"},
        rate_ip_per_s=0,
    )
    environ = cli.environment(settings, tmp_path) | environment_of(settings)
    projector: list[subprocess.Popen[bytes]] = []

    def start_projector() -> None:
        projector.append(cli.start(environ, tmp_path / f"project{len(projector)}.log", "project"))

    node = await build_node(settings, all_contexts(), {API, PUBLISHER})
    transport = httpx.ASGITransport(app=create_app(settings, node=node))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as http:
            start_projector()
            await a_profile(http, "ann", telegram_id=ANN)
            await a_profile(http, "bob", telegram_id=BOB)
            await a_club_calling(http, "ann", "bob")
            projector[-1].send_signal(signal.SIGKILL)  # wherever it was in its batch
            projector[-1].wait(timeout=30)
            start_projector()
            await until(lambda: _sent(bot_api, [ANN, BOB]), timeout=60)

            projector[-1].send_signal(signal.SIGKILL)  # after sending: its commit is durable
            projector[-1].wait(timeout=30)
            start_projector()
            await ask(http, "bob", "ann")
            await until(lambda: _sent(bot_api, [ANN, ANN]), timeout=60)
            texts = [m["text"] for m in sent_to(bot_api, ANN)]
            assert sum("table" in text.lower() or "стол" in text.lower() for text in texts) == 1
            assert len(texts) == 2 and len(sent_to(bot_api, BOB)) == 1
    finally:
        for process in projector:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        await stop(node)


async def _sent(bot_api: BotApiStandIn, chats: list[int]) -> bool:
    """At least as many messages to each chat as it is named in `chats`."""
    return all(len(sent_to(bot_api, chat)) >= chats.count(chat) for chat in set(chats))
