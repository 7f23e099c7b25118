"""The Mini App in headless Chromium, inside a simulated Telegram: `window.Telegram.WebApp`
carries `initData` signed with the test bot's token, its MainButton and haptics are recorded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Page

from tests.browser.conftest import NOT_LOOPBACK, WAIT_MS, Site
from tests.support.signing import BOT_TOKEN, telegram_init_data

TELEGRAM = """
(() => {
  const calls = []
  const button = (name) => {
    let handler = null
    return {
      text: '', visible: false,
      setText(text) { this.text = text; calls.push([name, 'text', text]) },
      onClick(h) { handler = h }, offClick() { handler = null },
      show() { this.visible = true }, hide() { this.visible = false },
      click() { if (handler) handler() },
    }
  }
  window.Telegram = { WebApp: {
    initData: INIT_DATA,
    initDataUnsafe: { user: { id: USER_ID, first_name: NAME, language_code: LANG } },
    themeParams: { bg_color: '#102030', text_color: '#fafafa', button_color: '#2ea6ff',
                   button_text_color: '#ffffff', hint_color: '#8899aa', secondary_bg_color: '#1c2c3c' },
    ready() { calls.push(['ready']) }, expand() { calls.push(['expand']) }, onEvent() {},
    MainButton: button('main'), BackButton: button('back'),
    HapticFeedback: {
      impactOccurred(kind) { calls.push(['haptic', kind]) },
      notificationOccurred(kind) { calls.push(['notify', kind]) },
    },
    calls,
  } }
})()
"""


@pytest.fixture
async def telegram_site(make_site) -> Site:
    return await make_site(telegram={"bot_token": BOT_TOKEN})


async def in_telegram(site: Site, user_id: int, name: str, lang: str = "en") -> Page:
    context = await site.browser.new_context(viewport={"width": 400, "height": 800})
    context.set_default_timeout(WAIT_MS)
    await context.route(NOT_LOOPBACK, lambda route: route.abort())
    site.contexts.append(context)
    script = (
        TELEGRAM.replace("INIT_DATA", json.dumps(telegram_init_data(user_id, name=name)))
        .replace("USER_ID", str(user_id))
        .replace("NAME", json.dumps(name))
        .replace("LANG", json.dumps(lang))
    )
    await context.add_init_script(script)
    page = await context.new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    await page.goto(f"{site.url}/billiards", wait_until="domcontentloaded")
    await page.evaluate("window.billiards.ready")
    return page


async def main_button(page: Page) -> None:
    await page.evaluate("window.Telegram.WebApp.MainButton.click()")


async def scores(page: Page) -> list[str]:
    return await page.locator("#scores .points").all_inner_texts()


async def test_a_full_американка_to_8_kept_in_telegram(telegram_site: Site):
    page = await in_telegram(telegram_site, 901, "Ann")
    assert await page.locator("#who").inner_text() == "Ann"
    # Telegram's theme colours became the page's
    bg = await page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--bg')")
    assert bg.strip() == "#102030"
    await page.locator("#players input").nth(1).fill("Bob")
    await page.select_option("#breaker", "0")
    await main_button(page)  # "Start the match"
    await page.wait_for_url("**/billiards/match/*")
    await page.locator("#keeper").wait_for()
    assert await scores(page) == ["0", "0"]
    # The scorekeeper records on the match's live socket (signed in with a ticket), not over HTTP.
    await page.wait_for_function("window.billiards.state.live?.ready === true")
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.url)
            if request.method == "POST" and "/api/billiards/matches/" in request.url else None)
    await page.click("#pot")
    await page.locator("#scores .points").first.filter(has_text="1").wait_for()
    await page.click("#miss")  # Bob to shoot
    await page.locator("#turn", has_text="Bob").wait_for()
    await page.click("[data-foul='touch']")  # Bob's foul: Ann +1
    await page.locator("#turn", has_text="Ann").wait_for()
    for expected in range(3, 9):
        await page.click("#pot")
        await page.locator("#scores .points").first.filter(has_text=str(expected)).wait_for()
    await page.locator("#standings").wait_for()
    assert await page.locator("#turn").inner_text() == "Ann wins"
    rows = await page.locator("#standings-rows tr").all_inner_texts()
    assert rows[0].split("\t")[:3] == ["1", "Ann", "8"]
    assert rows[1].split("\t")[:3] == ["2", "Bob", "0"]
    assert posted == [], posted  # every shot went over the socket
    calls: list[Any] = await page.evaluate("window.Telegram.WebApp.calls")
    assert ["ready"] in calls and ["notify", "success"] in calls and ["haptic", "medium"] in calls


async def test_a_колхоз_of_three_shows_its_settlement(telegram_site: Site):
    page = await in_telegram(telegram_site, 902, "Ann", lang="ru")
    assert await page.locator("#start").inner_text() == "Начать партию"
    await page.select_option("#game", label="Колхоз")
    await page.locator("#players input").nth(1).fill("Боб")
    await page.click("#add-player")
    await page.locator("#players input").nth(2).fill("Кот")
    await page.select_option("#breaker", "0")  # Ann breaks, then Боб, then Кот
    await page.fill("#stake", "10")
    await page.click("#start")
    await page.wait_for_url("**/billiards/match/*")
    await page.locator("#keeper").wait_for()
    await page.click("#pot2")  # Ann 2
    await page.locator("#scores .points").first.filter(has_text="2").wait_for()
    await page.click("#miss")
    await page.locator("#turn", has_text="Боб").wait_for()
    await page.click("[data-foul='miss']")  # Боб -1
    await page.locator("#turn", has_text="Кот").wait_for()
    await page.click("#pot")  # Кот 1
    await page.locator("#scores .points").nth(2).filter(has_text="1").wait_for()
    await page.click("#stop")
    await page.locator("#standings").wait_for()
    assert await page.locator("#turn").inner_text() == "Победил Ann"
    rows = [row.split("\t") for row in await page.locator("#standings-rows tr").all_inner_texts()]
    # direct scoring: Ann 2 - (-1) = 3, Кот 1 - 2 = -1, Боб -1 - 1 = -2; × 10 per point
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("Ann", "2", "3", "30"),
        ("Кот", "1", "-1", "-10"),
        ("Боб", "-1", "-2", "-20"),
    ]
