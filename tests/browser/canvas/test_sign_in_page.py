"""Signing in and out on the page, and staying signed in past an access token's lifetime."""

from playwright.async_api import expect

from tests.browser.conftest import Site
from tests.support.signing import BOT_TOKEN, telegram_widget

ACCESS_TOKEN = "JSON.parse(localStorage.getItem('tessera.session')).access"
WHOAMI = """async token => {
    const answer = await fetch('/api/auth/whoami', {headers: {Authorization: `Bearer ${token}`}})
    return (await answer.json()).signed_in
}"""


async def test_the_page_is_served_for_revalidation(site: Site):
    page = await site.http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    again = await site.http.get("/", headers={"If-None-Match": page.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    module = await site.http.get("/static/canvas/app.js")
    assert module.status_code == 200
    assert module.headers["content-type"].startswith("text/javascript")


async def test_a_telegram_sign_in_shows_the_name_and_signing_out_spectates(make_site):
    site = await make_site(telegram={"bot_token": BOT_TOKEN, "bot_username": "tessera_test_bot"})
    canvas = await site.a_canvas()
    page = await site.page(canvas)

    await page.evaluate("fields => window.tessera.signInWithTelegram(fields)", telegram_widget())

    await expect(page.locator("#account-name")).to_have_text("Widget")
    await expect(page.get_by_role("status")).to_have_text("Playing")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("status")).to_have_text("Spectating — sign in to play")
    await expect(page.locator("#account-name")).to_be_hidden()
    assert await page.evaluate("localStorage.getItem('tessera.session')") is None


async def test_a_player_stays_signed_in_past_the_access_tokens_lifetime(make_site):
    site = await make_site(identity={"access_ttl_s": 2})
    canvas = await site.a_canvas()
    page = await site.player(canvas, "Eve Refresh")
    first = await page.evaluate(ACCESS_TOKEN)

    await page.wait_for_function(f"{ACCESS_TOKEN} !== {first!r}")  # refreshed before it expired

    assert await page.evaluate(WHOAMI, await page.evaluate(ACCESS_TOKEN)) is True
    await page.wait_for_function("window.tessera.state === 'playing'")
    await page.evaluate("window.tessera.place(1, 1, 2)")
    await expect(page.locator("#account-name")).to_have_text("Eve Refresh")
