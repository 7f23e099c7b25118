"""Issue 14, Pixel Wars: what a new player met in the first hour, each as it works now."""

import re
from uuid import uuid4

from playwright.async_api import Page, expect

from tests.browser.canvas.test_canvas_page import click_pixel, has_pixel, playing
from tests.browser.canvas.test_players_page import in_state, with_clock
from tests.browser.conftest import Site

AT_ONCE_MS = 2_000
OFFLINE = re.compile(r"^Offline — (waiting for the network|board as of .*\d:\d\d.*)$")


async def choose(page: Page, x: int, y: int, colour: int) -> None:
    await click_pixel(page, x, y)
    await page.get_by_role("button", name=re.compile(rf"^Colour {colour + 1},")).click()


async def test_going_offline_is_shown_at_once_and_placing_resumes_when_back(site: Site):
    """Defect 5: the header said Playing and Place stayed enabled; a press waited 15 s."""
    canvas = await site.a_canvas()
    player = await site.player(canvas, "Olga Offline")
    await playing(player)
    await choose(player, 4, 4, 3)
    place = player.get_by_role("button", name="Place", exact=True)
    await expect(place).to_be_enabled()

    await player.context.set_offline(True)

    status = player.get_by_role("status")
    await expect(status).to_have_text(OFFLINE, timeout=AT_ONCE_MS)
    await expect(place).to_be_disabled(timeout=AT_ONCE_MS)
    await expect(player.locator("#place-reason")).to_contain_text("offline")

    await player.context.set_offline(False)

    await expect(status).to_have_text("Playing")
    await expect(place).to_be_enabled()
    await place.click()
    await has_pixel(player, 4, 4, 3)


async def test_a_player_waiting_out_a_long_cooldown_is_not_afk_before_it_ends(site: Site):
    """Defect 6: with a cooldown of 5 minutes a player went AFK 2 minutes after each pixel."""
    clock = with_clock(site)
    canvas = await site.a_canvas(cooldown_ms=300_000)
    player = await site.player(canvas, "Pia Patient")
    await playing(player)
    await player.evaluate("window.tessera.place(1, 1, 2)")

    clock.advance(121)  # past the AFK window, well within the cooldown
    site.parts["canvas"].presence.wake()
    await site.place(canvas, 0, 0, 1)  # the page hears of something in the meantime
    await has_pixel(player, 0, 0, 1)

    assert await player.evaluate("window.tessera.state") == "playing"
    clock.advance(300 + 1)  # the cooldown is over and a whole window with no action after it
    site.parts["canvas"].presence.wake()
    await in_state(player, "afk")


async def test_a_fresh_server_without_providers_is_played_as_a_guest(make_site):
    """Defect 7: without Google or Telegram nobody could place a pixel from the web page."""
    site = await make_site(google={"client_ids": ""})
    canvas = await site.a_canvas()
    page = await site.page(canvas)
    await page.get_by_role("button", name="Sign in to place").click()

    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Play as a guest").fill("Gus Guest")
    await dialog.get_by_role("button", name="Play as guest").click()

    await expect(dialog).to_be_hidden()
    await expect(page.locator("#account-name")).to_have_text("Gus Guest")
    await expect(page.locator("#guest-badge")).to_be_visible()
    await playing(page)
    await choose(page, 6, 2, 5)
    await page.get_by_role("button", name="Place", exact=True).click()
    await has_pixel(page, 6, 2, 5)
    await click_pixel(page, 6, 2)
    await expect(page.get_by_role("complementary")).to_contain_text("Placed by Gus Guest")


async def test_a_guest_links_google_and_keeps_the_account(make_site):
    """Defect 7: a guest can later link Google (or Telegram) and keep the account."""
    site = await make_site(identity={"guest_sign_in": "on"})
    canvas = await site.a_canvas()
    page = await site.page(canvas)
    guest = await page.evaluate("window.tessera.signInAsGuest('Lena Linked')")
    await expect(page.get_by_role("button", name="Keep this account")).to_be_visible()

    sub = f"sub-{uuid4().hex}"
    await page.evaluate("token => window.tessera.useGoogle(token)", site.google.id_token(sub=sub))

    await expect(page.get_by_role("button", name="Keep this account")).to_be_hidden()
    await expect(page.locator("#guest-badge")).to_be_hidden()
    await page.get_by_role("button", name="Sign out").click()
    account = await page.evaluate(
        "token => window.tessera.signInWithGoogle(token)", site.google.id_token(sub=sub)
    )
    assert account["id"] == guest["id"]
    assert account["display_name"] == "Lena Linked"


async def test_a_guest_nickname_refused_is_told_in_the_dialog(make_site):
    site = await make_site(google={"client_ids": ""})
    canvas = await site.a_canvas()
    page = await site.page(canvas)
    await page.get_by_role("button", name="Sign in to place").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Play as a guest").fill("   ")
    await dialog.get_by_role("button", name="Play as guest").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("nickname")
    assert await page.evaluate("window.tessera.state") == "spectating"


async def test_the_cooldown_toast_counts_down_with_the_timer(site: Site):
    """Defect 9: the toast said "Wait 60 s" while the timer beside it counted on."""
    canvas = await site.a_canvas(cooldown_ms=60_000)
    player = await site.player(canvas, "Tom Timer")
    await playing(player)
    await player.evaluate("window.tessera.place(1, 1, 2)")
    refused = await player.evaluate("window.tessera.place(2, 2, 2).then(() => null, e => e.code)")
    assert refused == "cooldown"

    timer = player.locator("#cooldown")
    toast = player.get_by_role("alert")
    await expect(timer).to_have_text(re.compile(r"Next pixel in 0:5[0-8]"))
    shown = re.search(r"0:5\d", await timer.inner_text())
    assert shown is not None
    await expect(toast).to_contain_text(shown.group(0), timeout=1_000)


async def test_the_footer_does_not_move_as_the_cooldown_counts(site: Site):
    """Defect 9: the footer jumped as the cooldown text changed width."""
    canvas = await site.a_canvas(cooldown_ms=60_000)
    player = await site.player(canvas, "Flo Footer")
    await playing(player)
    await choose(player, 3, 3, 1)
    before = await footer_boxes(player)

    await player.get_by_role("button", name="Place", exact=True).click()
    await expect(player.locator("#cooldown")).to_contain_text("Next pixel in 0:5")
    during = await footer_boxes(player)
    await expect(player.locator("#cooldown")).not_to_have_text(await player.locator("#cooldown").inner_text())

    assert during == before
    assert await footer_boxes(player) == before


async def footer_boxes(page: Page) -> list[dict]:
    return await page.evaluate(
        """['palette', 'place', 'connection'].map(id => {
            const box = document.getElementById(id).getBoundingClientRect()
            return {id, x: box.x, y: box.y, width: id === 'connection' ? 0 : box.width}
        })"""
    )


async def test_an_unknown_address_is_a_page_for_browsers_and_json_for_the_api(site: Site):
    """Defect 9: an unknown URL answered raw JSON in the browser."""
    page = await site.page(await site.a_canvas())
    answer = await page.goto(f"{site.url}/no/such/page")
    assert answer is not None and answer.status == 404
    assert answer.headers["content-type"].startswith("text/html")
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    await expect(page.get_by_role("link", name="Play Pixel Wars")).to_be_visible()

    api = await site.http.get("/api/no/such/thing", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.json()["error"] == "not_found"


async def test_the_feedback_page_is_dark_like_the_game_whatever_the_system_theme(site: Site):
    """Defect 9: the feedback page followed the system theme while the game is always dark."""
    page = await site.page(await site.a_canvas())
    await page.emulate_media(color_scheme="light")
    game = await page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    await page.goto(f"{site.url}/feedback")
    feedback_root = await page.evaluate(
        "getComputedStyle(document.documentElement).backgroundColor"
    )
    assert feedback_root == game
    assert await page.evaluate("getComputedStyle(document.body).color") == "rgb(236, 238, 242)"
    await expect(page.locator("tessera-header")).to_contain_text("Pixel Wars")


async def test_pixel_wars_installs_and_its_page_opens_offline(site: Site):
    """Defect 8, Pixel Wars' part: a manifest with icons, and a service worker for the canvas
    app shell whose scope leaves the desks alone."""
    canvas = await site.a_canvas()
    await site.place(canvas, 2, 2, 4)
    page = await site.page()
    manifest_url = await page.evaluate("document.querySelector('link[rel=manifest]').href")
    manifest = (await site.http.get(manifest_url)).json()
    assert manifest["start_url"] == "/canvas" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert (await site.http.get(icon["src"])).status_code == 200
    scope = await page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{site.url}/canvas"
    assert not f"{site.url}/desk/".startswith(scope + "/")
    await has_pixel(page, 2, 2, 4)
    await page.reload()  # now under the worker's control
    await page.evaluate("window.tessera.ready")

    await page.context.set_offline(True)
    await page.reload()

    await page.evaluate("window.tessera.ready")
    await expect(page.get_by_role("status")).to_have_text(OFFLINE)
    await expect(page.get_by_role("button", name="Sign in to place")).to_be_visible()
    await page.context.set_offline(False)
    await has_pixel(page, 2, 2, 4)  # back online, the board comes by itself


async def test_the_canvas_reopened_offline_shows_the_last_board_it_saw_and_when(site: Site):
    """Offline, the page showed its shell and an empty board: now the last board it loaded,
    marked as of when, and Place disabled with the reason."""
    canvas = await site.a_canvas()
    await site.place(canvas, 3, 5, 6)
    page = await site.page()  # the current game, as the landing page's link opens it
    token = site.google.id_token(sub=f"sub-{uuid4().hex}", name="Nora Network")
    await page.evaluate("token => window.tessera.signInWithGoogle(token)", token)
    await page.evaluate("navigator.serviceWorker.ready")
    await page.reload()  # now under the worker's control
    await page.evaluate("window.tessera.ready")
    await has_pixel(page, 3, 5, 6)

    await page.context.set_offline(True)
    await page.reload()

    await page.evaluate("window.tessera.ready")
    await has_pixel(page, 3, 5, 6)
    status = page.get_by_role("status")
    await expect(status).to_contain_text(re.compile(r"^Offline — board as of \d{1,2}:\d{2}"))
    await choose(page, 2, 2, 1)
    place = page.get_by_role("button", name="Place", exact=True)
    await expect(place).to_be_disabled()
    await expect(page.locator("#place-reason")).to_contain_text("offline")
    await page.context.set_offline(False)
    await expect(status).to_have_text("Playing")
