"""The Mini App's friends and groups screens in headless Chromium, inside a simulated Telegram
(`window.Telegram.WebApp` with `initData` signed by the test bot): two players befriend each
other by Telegram username, and a group's page shows who joined by its invite link."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Page

from tests.browser.billiards.test_mini_app import TELEGRAM
from tests.browser.conftest import NOT_LOOPBACK, WAIT_MS, Site
from tests.integration.conftest import until
from tests.support.signing import BOT_TOKEN, telegram_init_data

SHOTS = "/tmp/bsocial-shots"


@pytest.fixture
async def telegram_site(make_site) -> Site:
    return await make_site(telegram={"bot_token": BOT_TOKEN})


async def in_telegram(site: Site, user_id: int, name: str, username: str, path: str = "") -> Page:
    context = await site.browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(WAIT_MS)
    await context.route(NOT_LOOPBACK, lambda route: route.abort())
    site.contexts.append(context)
    init_data = telegram_init_data(user_id, name=name, username=username)
    script = (
        TELEGRAM.replace("INIT_DATA", json.dumps(init_data))
        .replace("USER_ID", str(user_id))
        .replace("NAME", json.dumps(name))
        .replace("LANG", json.dumps("en"))
    )
    await context.add_init_script(script)
    page = await context.new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and site.page_errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and print("HTTP", r.status, r.url))
    await page.goto(f"{site.url}/billiards{path}", wait_until="domcontentloaded")
    await page.evaluate("window.billiards.ready")
    return page


async def test_a_friend_added_by_telegram_username(telegram_site: Site):
    bob = await in_telegram(telegram_site, 902, "Bob", "bob_tg")
    ann = await in_telegram(telegram_site, 901, "Ann", "ann_tg")
    await ann.click("#social-nav >> text=Friends")
    await ann.locator("#find-friend").wait_for()
    await ann.locator("#no-friends").wait_for()
    assert await ann.locator(".share img.qr").get_attribute("src") is not None
    await ann.fill("#friend-username", "@bob_tg")
    await ann.click("#find-friend button[type=submit]")
    await ann.locator("[data-state=outgoing] li", has_text="Bob").wait_for()
    await ann.screenshot(path=f"{SHOTS}/friends-asked.png", full_page=True)

    await bob.click("#social-nav >> text=Friends")
    await bob.locator("[data-state=incoming] li", has_text="Ann").wait_for()
    await bob.click("[data-state=incoming] li >> text=Accept")
    await bob.locator("[data-state=friend] li", has_text="Ann").wait_for()
    await bob.screenshot(path=f"{SHOTS}/friends.png", full_page=True)
    await ann.click("#social-nav >> text=Friends")
    await ann.locator("[data-state=friend] li", has_text="Bob").wait_for()


async def test_the_settings_keep_the_notifications_chosen(telegram_site: Site):
    ann = await in_telegram(telegram_site, 931, "Ann", "ann_tg")
    await ann.click("#social-nav >> text=Settings")
    weekly = ann.locator("input[name=notice][value=weekly]")
    await weekly.wait_for()
    assert await weekly.is_checked()
    assert "Telegram" in await ann.locator("#social").inner_text()
    await weekly.uncheck()
    await ann.select_option("#settings-lang", "ru")
    await ann.click("#save-settings")
    await ann.locator("#social h2", has_text="Настройки").wait_for()
    await ann.locator("#save-settings", has_text="Сохранить").wait_for()
    assert await ann.locator("#lang").inner_text() == "EN"
    await ann.screenshot(path=f"{SHOTS}/settings.png", full_page=True)
    await ann.reload(wait_until="domcontentloaded")
    await ann.evaluate("window.billiards.ready")
    await ann.click("#social-nav >> text=Настройки")
    await ann.locator("input[name=notice][value=weekly]").wait_for()
    assert not await ann.locator("input[name=notice][value=weekly]").is_checked()
    assert await ann.locator("input[name=notice][value=table_ready]").is_checked()


async def test_a_group_page_shows_who_joined_by_its_invite_link(telegram_site: Site):
    ann = await in_telegram(telegram_site, 911, "Ann", "ann_tg")
    await ann.click("#social-nav >> text=Groups")
    await ann.locator("#no-groups").wait_for()
    await ann.fill("#group-name", "Thursday league")
    await ann.click("#new-group button[type=submit]")
    await ann.locator("#group-title", has_text="Thursday league").wait_for()
    await ann.locator("#group-members li", has_text="Ann").wait_for()
    link = await ann.locator("#group-invite input.link").input_value()
    assert "/billiards/group/" in link and "invite=" in link
    await ann.locator("#group-invite img.qr").wait_for()

    bob = await in_telegram(telegram_site, 912, "Bob", "bob_tg",
                            path=link.split("/billiards", 1)[1])
    await bob.locator("#group-title", has_text="Thursday league").wait_for()
    await bob.locator("#group-members li", has_text="Bob").wait_for()
    assert "member" in await bob.locator("#social p.muted").first.inner_text()

    await ann.click("#social-nav >> text=Groups")
    await ann.click("#my-groups a")
    await ann.locator("#group-members li", has_text="Bob").wait_for()
    await ann.locator("#group-leaderboard li", has_text="Bob").wait_for()
    await ann.screenshot(path=f"{SHOTS}/group.png", full_page=True)


VALUES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]


async def test_колхоз_with_valued_balls_records_which_balls_went_in(telegram_site: Site):
    ann = await in_telegram(telegram_site, 921, "Ann", "ann_tg")
    created = await ann.evaluate(
        """async (values) => {
          const { access } = JSON.parse(localStorage.getItem('tessera.session'))
          const response = await fetch('/api/billiards/templates', {
            method: 'POST',
            headers: { Authorization: `Bearer ${access}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ base: 'kolkhoz', name: 'Valued', params: { ball_values: values } }),
          })
          return response.status
        }""",
        VALUES,
    )
    assert created == 201

    async def listed() -> bool:  # the templates read model follows by a moment
        await ann.reload(wait_until="domcontentloaded")
        await ann.evaluate("window.billiards.ready")
        return await ann.locator("#game option", has_text="Valued").count() == 1

    await until(listed)
    await ann.select_option("#game", label="Valued")
    await ann.locator("#players input").nth(1).fill("Bob")
    await ann.select_option("#breaker", "0")
    await ann.click("#start")
    await ann.wait_for_url("**/billiards/match/*")
    await ann.locator("#balls .ball").first.wait_for()
    assert await ann.locator("#pot").is_hidden()
    assert await ann.locator("#balls .ball").count() == 15
    # the invite: its link as a QR code drawn by the server
    qr = ann.locator("#invite img.qr")
    await qr.wait_for()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    await ann.click("[data-ball='3']")
    await ann.click("[data-ball='12']")
    assert await ann.locator("#pocketed").inner_text() == "Pocketed: 2"
    await ann.screenshot(path=f"{SHOTS}/balls.png", full_page=True)
    await ann.click("#pocketed")
    await ann.locator("#scores .points").first.filter(has_text="15").wait_for()
    assert await ann.locator("#balls .ball").count() == 13
    assert await ann.locator("[data-ball='3']").count() == 0
