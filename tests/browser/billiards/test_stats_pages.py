"""The Mini App's stats screens in headless Chromium inside a simulated Telegram: a leaderboard
of two rated players, a profile with its charts, a replay stepped through shot by shot."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from domain.billiards.rules import BUILT_IN_IDS
from tests.browser.billiards.test_mini_app import in_telegram
from tests.browser.conftest import Site
from tests.integration.conftest import until
from tests.support.signing import BOT_TOKEN

SHOTS = [(0, 3), (0, 0), (1, 2), (1, 0), (0, 5)]
"""Ann 3, a miss; Bob 2, a miss; Ann 5: Ann wins 8-2 in five shots."""


async def a_played_match(http: httpx.AsyncClient) -> str:
    created = await http.post(
        "/api/billiards/matches",
        json={"template_id": str(BUILT_IN_IDS["american"]),
              "players": [{"name": "Ann", "me": True}, {"name": "Bob"}]},
        headers={"X-Dev-User": "ann"},
    )
    body = created.json()
    joined = await http.post(
        f"/api/billiards/matches/{body['id']}/join",
        json={"invite": body["invite"], "name": "Bob", "seat": 1},
        headers={"X-Dev-User": "bob"},
    )
    assert joined.status_code == 200, joined.text
    for n, (shooter, balls) in enumerate(SHOTS):
        shot = await http.post(
            f"/api/billiards/matches/{body['id']}/shots",
            json={"key": f"{body['id']}-{n}", "shooter": shooter, "balls": balls},
            headers={"X-Dev-User": "ann"},
        )
        assert shot.status_code == 200, shot.text
    return str(body["id"])


async def rated(site: Site) -> bool:
    board = (await site.http.get("/api/billiards/leaderboards/american")).json()
    return board["total"] == 2 and board["standings"][0]["matches"] == 2


async def test_a_leaderboard_a_profile_and_a_replay(make_site):
    site: Site = await make_site(telegram={"bot_token": BOT_TOKEN})
    await a_played_match(site.http)
    await a_played_match(site.http)
    await until(lambda: rated(site))
    page = await in_telegram(site, 903, "Cat")
    await page.click("#stats-links a:nth-child(2)")  # Leaderboards
    await page.wait_for_url("**/billiards/leaderboards")
    await page.locator("#leaderboard tbody tr").nth(1).wait_for()
    rows = [r.split("\t") for r in await page.locator("#leaderboard tbody tr").all_inner_texts()]
    assert [(r[0], r[1], r[3]) for r in rows] == [("1", "Ann", "2"), ("2", "Bob", "2")]
    assert rows[0][2].endswith("*")  # provisional
    await page.screenshot(path="/tmp/billiards-leaderboard.png")

    await page.click("#leaderboard tbody tr:first-child a")
    await page.wait_for_url("**/billiards/players/ann")
    card = page.locator(".game-stats[data-kind='american']")
    await card.wait_for()
    figures = await card.locator("dd").all_inner_texts()
    assert figures[:4] == ["2", "2-0-0", "100%", "16"]  # matches, W-L-D, win rate, balls
    assert await card.locator("polyline").count() == 1  # the rating over time
    assert await card.locator("rect.bar").count() == 2  # balls per turn, per match
    assert "Bob" in await page.locator("#versus").inner_text()
    await page.screenshot(path="/tmp/billiards-profile.png", full_page=True)

    await page.locator("#history tbody tr").first.click()
    await page.wait_for_url("**/billiards/replay/*")
    await page.locator("#replay-standings").wait_for()
    assert await page.locator("#replay-counter").inner_text() == "Shot 5 of 5"
    assert await page.locator("#replay-scores .points").all_inner_texts() == ["8", "2"]
    await page.click("#replay-prev")
    await page.click("#replay-prev")
    assert await page.locator("#replay-counter").inner_text() == "Shot 3 of 5"
    assert await page.locator("#replay-scores .points").all_inner_texts() == ["3", "2"]
    assert await page.locator("#replay-caption").inner_text() == "Bob: 2 balls"
    standings = await page.locator("#replay-standings tbody tr").all_inner_texts()
    assert standings[0].split("\t")[1] == "Ann" and standings[0].split("\t")[3].startswith("+")
    await page.screenshot(path="/tmp/billiards-replay.png", full_page=True)


async def test_an_empty_leaderboard_says_so(site: Site):
    page = await site.browser.new_page()
    site.contexts.append(page.context)
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    await page.goto(f"{site.url}/billiards/leaderboards/moscow")
    await page.locator("#stats .empty").wait_for()
    assert await page.locator("#board-game").input_value() == "moscow"


async def test_a_visitor_in_a_plain_browser_signs_in_and_comes_back_to_the_mini_app(make_site):
    """Outside Telegram the Mini App's "Sign in" opens the service's sign-in (the canvas page's
    dialog) and, once signed in, goes back to /billiards; before, it led to the home page,
    which has no sign-in."""
    site: Site = await make_site(google={"client_ids": ""})
    page = await site.page(await site.a_canvas())  # a visitor who watched the canvas first
    await page.goto(f"{site.url}/billiards", wait_until="domcontentloaded")
    await page.locator("#signin a").click()
    await page.wait_for_url(lambda url: url.endswith("/canvas?next=/billiards#sign-in"))
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("then back to /billiards")
    await dialog.get_by_label("Play as a guest").fill("Wanda Walkin")
    await dialog.get_by_role("button", name="Play as guest").click()
    await page.wait_for_url(lambda url: url.endswith("/billiards"))
    await expect(page.locator("#home")).to_be_visible()
    await expect(page.locator("#home")).to_contain_text("Wanda Walkin")


async def test_a_next_page_on_another_site_is_not_followed(make_site):
    site: Site = await make_site(google={"client_ids": ""})
    page = await site.page(await site.a_canvas())
    await page.goto(f"{site.url}/canvas?next=//example.com/x#sign-in", wait_until="domcontentloaded")
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Play as a guest").fill("Stay Here")
    await dialog.get_by_role("button", name="Play as guest").click()
    await expect(page.locator("#account-name")).to_have_text("Stay Here")
    assert page.url.startswith(site.url)
