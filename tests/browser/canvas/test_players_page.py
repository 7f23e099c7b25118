"""Player states on the page: the admission queue under a player cap, and AFK with Play again.
Time is a clock the test moves (the presence's clock), never a sleep."""

from playwright.async_api import Page, expect

from tests.browser.canvas.test_canvas_page import has_pixel
from tests.browser.conftest import Site
from tests.support.clock import ManualClock

WINDOW_S = 120


def with_clock(site: Site) -> ManualClock:
    clock = ManualClock()
    site.parts["canvas"].presence.clock = clock
    return clock


async def in_state(page: Page, state: str) -> None:
    await page.wait_for_function("state => window.tessera.state === state", arg=state)


async def test_players_beyond_the_cap_wait_in_line_and_are_admitted_in_order(make_site):
    site = await make_site(canvas={"player_cap": 1})
    clock = with_clock(site)
    canvas = await site.a_canvas()
    ann = await site.player(canvas, "Ann First")
    await in_state(ann, "playing")
    bob = await site.player(canvas, "Bob Second")
    await expect(bob.get_by_role("status")).to_have_text("In queue: position 1 of 1")
    cat = await site.player(canvas, "Cat Third")
    await expect(cat.get_by_role("status")).to_have_text("In queue: position 2 of 2")
    assert await cat.evaluate("[window.tessera.state, window.tessera.position]") == ["queued", 2]
    await expect(cat.get_by_role("button", name="Place")).to_be_disabled()

    clock.advance(WINDOW_S + 1)  # Ann placed nothing for the whole window
    site.parts["canvas"].presence.wake()

    await in_state(ann, "afk")
    await expect(bob.get_by_role("status")).to_have_text("Playing")
    await expect(cat.get_by_role("status")).to_have_text("In queue: position 1 of 1")


async def test_an_afk_player_spectates_until_they_play_again(site: Site):
    clock = with_clock(site)
    canvas = await site.a_canvas()
    ann = await site.player(canvas, "Ann Away")
    await in_state(ann, "playing")

    clock.advance(WINDOW_S + 1)
    site.parts["canvas"].presence.wake()

    await expect(ann.get_by_role("status")).to_have_text("AFK —")
    play_again = ann.get_by_role("button", name="Play again")
    await expect(play_again).to_be_visible()
    await expect(ann.locator("#connection")).to_contain_text("polling")
    await site.place(canvas, 2, 3, 4)
    await has_pixel(ann, 2, 3, 4)  # still watching the board

    await play_again.click()

    await expect(ann.get_by_role("status")).to_have_text("Playing")
    await expect(play_again).to_be_hidden()
    await expect(ann.locator("#connection")).to_contain_text("live")
