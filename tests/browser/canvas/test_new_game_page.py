"""An open Pixel Wars page when the admins start a new game or clear the board through the bot:
it follows without a reload, unless it was opened on a named canvas."""

import re
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from tests.browser.canvas.test_canvas_page import click_pixel, has_pixel, playing
from tests.browser.canvas.test_product_pages import visitor
from tests.browser.conftest import Site
from tests.integration.canvas.test_telegram_bot import ADMIN_CHAT, SECRET, an_update
from tests.support.signing import BOT_TOKEN
from tests.support.telegram_bot_api import BotApiStandIn


@pytest.fixture
def bot_api() -> Any:
    stand_in = BotApiStandIn()
    yield stand_in
    stand_in.close()


@pytest_asyncio.fixture
async def site(make_site: Callable[..., Awaitable[Site]], bot_api: BotApiStandIn) -> Site:
    """The service with the Telegram bot's webhook on, the admins' chat allowed to run it."""
    return await make_site(
        telegram={
            "bot_token": BOT_TOKEN,
            "api_url": bot_api.url,
            "webhook_secret": SECRET,
            "admin_chats": str(ADMIN_CHAT),
        }
    )


async def admins_send(site: Site, text: str) -> None:
    response = await site.http.post(
        "/api/telegram/webhook",
        json=an_update(text, chat_id=ADMIN_CHAT, chat_type="supergroup"),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 200, response.text


async def signed_in(site: Site, page: Page, name: str) -> Page:
    token = site.google.id_token(sub=f"sub-{uuid4().hex}", name=name)
    await page.evaluate("token => window.tessera.signInWithGoogle(token)", token)
    return page


async def mark_document(page: Page) -> None:
    await page.evaluate("window.sameDocument = true")


async def still_the_same_document(page: Page) -> None:
    assert await page.evaluate("window.sameDocument") is True
    assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1


async def shows_a_board_of(page: Page, width: int, height: int) -> str:
    """Waits for the page to show a canvas of that size; its id."""
    await page.wait_for_function(
        "([w, h]) => window.tessera.canvas.width === w && window.tessera.canvas.height === h",
        arg=[width, height],
    )
    board = page.locator("#board")
    await expect(board).to_have_attribute("width", str(width))
    await expect(board).to_have_attribute("height", str(height))
    canvas_id: str = await page.evaluate("window.tessera.canvas.id")
    return canvas_id


async def test_a_spectator_page_follows_a_new_game_without_a_reload(site: Site):
    old = await site.a_canvas(width=16, height=12)
    page = await site.page()
    await shows_a_board_of(page, 16, 12)
    await mark_document(page)

    await admins_send(site, "/newgame 24 20")

    new = await shows_a_board_of(page, 24, 20)
    assert new != old
    await expect(page.get_by_role("alert")).to_contain_text("A new game started")
    await expect(page.locator("#title")).to_have_text("Pixel Wars 24×20")
    await site.place(new, 23, 19, 4)
    await has_pixel(page, 23, 19, 4)
    await still_the_same_document(page)


async def test_a_player_plays_on_in_the_new_game(site: Site):
    old = await site.a_canvas(width=16, height=12, cooldown_ms=60_000)
    player = await signed_in(site, await site.page(), "Pat Player")
    await playing(player)
    await player.evaluate("window.tessera.place(1, 1, 2)")
    await expect(player.locator("#cooldown")).to_contain_text("Next pixel in")
    await mark_document(player)

    await admins_send(site, "/newgame 20 10")

    new = await shows_a_board_of(player, 20, 10)
    assert new != old
    await playing(player)
    await expect(player.locator("#connection")).to_contain_text("live")
    await expect(player.locator("#cooldown")).to_have_text("Ready")  # a fresh start there
    await click_pixel(player, 19, 9)
    await player.get_by_role("button", name=re.compile(r"^Colour 3,")).click()
    await player.get_by_role("button", name="Place").click()
    await has_pixel(player, 19, 9, 2)
    watcher = await site.page(new)
    await has_pixel(watcher, 19, 9, 2)
    assert await watcher.evaluate("window.tessera.pixel(1, 1)") == 0  # the old game's pixel
    await still_the_same_document(player)


async def test_a_page_opened_on_a_named_canvas_stays_and_offers_the_new_game(site: Site):
    old = await site.a_canvas(width=16, height=12)
    page = await site.page(old)
    await mark_document(page)

    await admins_send(site, "/newgame 30 30")

    offer = page.get_by_role("link", name="A new game started — go to it")
    await expect(offer).to_be_visible()
    await expect(offer).to_have_attribute("href", "/canvas")
    assert await page.evaluate("window.tessera.canvas.id") == old
    await expect(page.locator("#board")).to_have_attribute("width", "16")
    await still_the_same_document(page)

    await offer.click()

    await page.wait_for_url(f"{site.url}/canvas")
    await page.wait_for_function("window.tessera?.ready")
    await page.evaluate("window.tessera.ready")
    await shows_a_board_of(page, 30, 30)


async def test_a_clear_by_the_bot_blanks_open_pages_without_a_reload(site: Site):
    canvas = await site.a_canvas()
    player = await signed_in(site, await site.page(), "Cleo Cleared")
    await playing(player)
    spectator = await site.page()
    await site.place(canvas, 4, 5, 3)
    await has_pixel(player, 4, 5, 3)
    await has_pixel(spectator, 4, 5, 3)
    await mark_document(player)
    await mark_document(spectator)

    await admins_send(site, "/clear")

    await has_pixel(player, 4, 5, 0)
    await has_pixel(spectator, 4, 5, 0)
    assert await player.evaluate("window.tessera.canvas.id") == canvas
    await still_the_same_document(player)
    await still_the_same_document(spectator)


async def test_with_no_game_open_the_pages_wait_without_an_error_and_the_game_shows_once_open(
    site: Site,
):
    """The pages ask `/api/config` which game is open (null while none is): asking
    `/api/canvas/current` at every poll, a 404 each time, had the browser log an error a poll."""
    person = await visitor(site, "waiting", {"viewport": {"width": 1000, "height": 700}})
    landing = await person.open(f"{site.url}/")
    replay = await person.open(f"{site.url}/replay")
    await expect(replay.locator("#empty")).to_have_text(re.compile("No game is open"))
    page = await person.open(f"{site.url}/canvas")
    await expect(page.locator("#empty")).to_be_visible()
    await expect(page.locator("#status")).to_have_text("Waiting for a game")
    await page.wait_for_timeout(1500)  # three polls at 0.5 s

    canvas = await site.a_canvas(width=24, height=16)
    await page.wait_for_function("window.tessera.canvas !== undefined")
    assert await shows_a_board_of(page, 24, 16) == canvas
    await expect(page.locator("#empty")).to_be_hidden()
    await landing.reload()
    await expect(landing.locator("#canvas-preview img")).to_be_visible()
    assert person.errors == []
