"""Browser tests: the real web client in headless Chromium (the system one) against the real
service: uvicorn on a loopback port, PostgreSQL, NATS JetStream. One browser per module, a fresh
browser context (cookies, storage) per page; a service per test (`site`, `make_site`), or one per
module for the tests that can share it (`shared_site`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from api.app import Node, build, create_app
from infra.settings import Settings
from tests.integration.conftest import make_settings, settings_maker, stop, until  # noqa: F401
from tests.support.ports import free_port
from tests.support.settings import merged
from tests.support.signing import CLIENT_ID, GoogleStandIn

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PALETTE = ["#ffffff", "#000000", "#ff4500", "#ffa800", "#00a368", "#2450a4", "#811e9f", "#898d90"]
NOT_LOOPBACK = re.compile(r"^(?!https?://127\.0\.0\.1[:/])")
WAIT_MS = 20_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium package")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@contextlib.asynccontextmanager
async def serving_at(parts: Node, port: int) -> AsyncIterator[None]:
    """The app on a real uvicorn server at a given loopback port (a page's origin includes it,
    so a restarted server must come back at the same one)."""
    config = uvicorn.Config(
        create_app(parts.settings, node=parts), port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # it failed to start: say why
        return server.started

    await until(started)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def google() -> Any:
    stand_in = GoogleStandIn()
    yield stand_in
    stand_in.close()


class Site:
    """The service under test, as its users and its admin reach it."""

    def __init__(self, parts: Node, port: int, browser: Browser, google: GoogleStandIn) -> None:
        self.parts = parts
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.browser = browser
        self.google = google
        self.http = httpx.AsyncClient(base_url=self.url, timeout=10)
        self.contexts: list[BrowserContext] = []
        self.page_errors: list[str] = []

    async def a_canvas(self, *, width: int = 16, height: int = 12, cooldown_ms: int = 0) -> str:
        answer = await self.http.post(
            "/api/canvas/",
            json={
                "width": width,
                "height": height,
                "palette": PALETTE,
                "cooldown_ms": cooldown_ms,
                "title": "Browser test",
            },
            headers={"X-Dev-User": "admin", "X-Dev-Roles": "admin"},
        )
        assert answer.status_code == 201, answer.text
        canvas_id: str = answer.json()["id"]

        async def known() -> bool:
            return (await self.http.get(f"/api/canvas/{canvas_id}")).status_code == 200

        await until(known)
        return canvas_id

    async def place(self, canvas_id: str, x: int, y: int, colour: int) -> int:
        """A placement by another client, over HTTP (a development identity of its own)."""
        answer = await self.http.post(
            f"/api/canvas/{canvas_id}/pixels",
            json={"x": x, "y": y, "colour": colour},
            headers={"X-Dev-User": f"other-{uuid4().hex[:12]}"},
        )
        assert answer.status_code == 200, answer.text
        version: int = answer.json()["version"]
        return version

    async def page(self, canvas_id: str | None = None) -> Page:
        """A signed-out visitor on a page of its own (its own storage), at the canvas."""
        context = await self.browser.new_context(viewport={"width": 1000, "height": 700})
        context.set_default_timeout(WAIT_MS)
        # No internet here: the sign-in providers' scripts fail at once instead of hanging.
        await context.route(NOT_LOOPBACK, lambda route: route.abort())
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        query = f"?canvas={canvas_id}" if canvas_id else ""
        await page.goto(f"{self.url}/canvas{query}", wait_until="domcontentloaded")
        # `evaluate` has no timeout of its own, and with no game open the page waits for one.
        async with asyncio.timeout(WAIT_MS / 1000):
            await page.evaluate("window.tessera.ready")
        return page

    async def player(self, canvas_id: str, name: str) -> Page:
        """A visitor who signed in with Google (the stand-in) as `name`."""
        page = await self.page(canvas_id)
        token = self.google.id_token(sub=f"sub-{uuid4().hex}", name=name)
        account = await page.evaluate("token => window.tessera.signInWithGoogle(token)", token)
        assert account["display_name"] == name
        return page

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        """The web server goes away (its sockets are closed) and comes back at the same port;
        the rest of the service keeps running."""
        await self._serving.aclose()
        try:
            yield
        finally:
            self._serving = await self._serve()

    async def start(self) -> None:
        self._serving = await self._serve()

    async def _serve(self) -> contextlib.AsyncExitStack:
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(serving_at(self.parts, self.port))
        return stack

    async def close_pages(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):
                await context.close()
        self.contexts.clear()

    async def close(self) -> None:
        await self.close_pages()
        await self.http.aclose()
        await self._serving.aclose()


@contextlib.asynccontextmanager
async def serving_sites(
    make_settings: Callable[..., Awaitable[Settings]],  # noqa: F811
    browser: Browser,
    google: GoogleStandIn,
    started: list[Site],
) -> AsyncIterator[Callable[..., Awaitable[Site]]]:
    """Starts the service with settings fit for a browser (and any overrides) and serves it,
    appending it to `started`, until the block ends."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Site:
            settings = await make_settings(
                **merged(
                    {
                        "google": {"client_ids": CLIENT_ID, "jwks_url": google.url},
                        "canvas": {"spectator_poll_s": 0.5},
                        "rate_ip_per_s": 0,
                        "identity": {"rate_account_per_s": 0},
                    },
                    overrides,
                )
            )
            parts = await build(settings)
            stack.push_async_callback(stop, parts)
            site = Site(parts, free_port(), browser, google)
            await site.start()
            stack.push_async_callback(site.close)
            started.append(site)
            return site

        yield start


def assert_no_page_errors(sites: list[Site]) -> None:
    errors = [error for site in sites for error in site.page_errors]
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest_asyncio.fixture
async def make_site(
    make_settings: Callable[..., Awaitable[Settings]],  # noqa: F811
    browser: Browser,
    google: GoogleStandIn,
) -> AsyncIterator[Callable[..., Awaitable[Site]]]:
    """Starts sites for one test (`serving_sites`); afterwards, an uncaught error in any page
    fails the test."""
    started: list[Site] = []
    async with serving_sites(make_settings, browser, google, started) as start:
        yield start
    assert_no_page_errors(started)


@pytest_asyncio.fixture
async def site(make_site: Callable[..., Awaitable[Site]]) -> Site:
    return await make_site()


@pytest_asyncio.fixture(scope="module")
async def module_site(browser: Browser) -> AsyncIterator[Site]:
    """One site for a whole module. Starting a service took longer than most browser tests' own
    steps; tests that each make what they use (a desk of their own) and need no setting of
    their own can share one, through `shared_site`."""
    google = GoogleStandIn()
    try:
        async with settings_maker() as make_settings, \
                serving_sites(make_settings, browser, google, []) as start:
            yield await start()
    finally:
        google.close()


@pytest_asyncio.fixture
async def shared_site(module_site: Site) -> AsyncIterator[Site]:
    """The module's site, for one test: the pages the test opened are closed after it, and an
    uncaught error in one of them fails it."""
    yield module_site
    await module_site.close_pages()
    try:
        assert_no_page_errors([module_site])
    finally:
        module_site.page_errors.clear()
