"""The desk defects of issue 14, each as a user meets it in Chromium (each failed on the code
before the fix)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import Site, until
from tests.browser.desk.test_desk_page import (
    a_context,
    a_desk,
    a_desk_made_in_the_page,
    a_sticker,
    has,
    open_desk,
    saved,
)

UNKNOWN_LINK = "AAAAAAAAAAAAAAAAAAAAAA"


async def open_by_name(page, site: Site, name: str) -> None:
    await page.goto(f"{site.url}/desk", wait_until="domcontentloaded")
    await page.get_by_label("Desk name").fill(name)
    await page.get_by_role("button", name="Open", exact=True).click()


async def test_1_a_desk_name_opens_only_in_a_browser_that_opened_it_before(site: Site):
    ann, desk_id = await a_desk_made_in_the_page(site)
    name = await ann.locator("#name").text_content()
    assert name
    eve = await (await a_context(site)).new_page()
    eve.on("pageerror", lambda error: site.page_errors.append(str(error)))

    await open_by_name(eve, site, name)

    ask = eve.get_by_role("alertdialog")
    await expect(ask).to_contain_text(f"You have no desk named “{name}”")
    assert eve.url == f"{site.url}/desk"  # not in Ann's desk
    await ask.get_by_role("button", name="Create it").click()
    await eve.wait_for_url("**/desk/*")
    await eve.evaluate("window.desk.ready")
    assert eve.url.rsplit("/", 1)[1] != desk_id  # a desk of her own

    await open_by_name(ann, site, name)  # Ann's browser still finds Ann's desk
    await ann.wait_for_url(f"**/desk/{desk_id}")


async def test_2_an_unknown_desk_link_shows_a_clear_page_with_a_way_on(site: Site):
    page = await (await a_context(site)).new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))

    await page.goto(f"{site.url}/desk/{UNKNOWN_LINK}", wait_until="domcontentloaded")
    await page.evaluate("window.desk.ready")

    state = page.get_by_role("alert").filter(has_text="There is no desk at this link")
    await expect(state).to_be_visible()
    await expect(page.get_by_role("link", name="Create a new desk")).to_be_visible()
    await expect(page.get_by_role("status")).not_to_have_text("Connecting…")
    await expect(page.get_by_role("button", name="New sticker")).to_be_hidden()
    await page.get_by_role("link", name="Create a new desk").click()
    await page.wait_for_url(f"{site.url}/desk")


async def test_2_an_expired_desk_link_says_it_expired(make_site):
    site = await make_site(desk={"ttl_s": 1})
    desk_id = await a_desk(site)

    async def expired() -> bool:
        return (await site.http.get(f"/api/desk/{desk_id}")).status_code == 410

    await until(expired)
    page = await (await a_context(site)).new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    await page.goto(f"{site.url}/desk/{desk_id}", wait_until="domcontentloaded")
    await page.evaluate("window.desk.ready")

    await expect(page.get_by_role("heading", name="This desk has expired")).to_be_visible()
    await expect(page.get_by_role("link", name="Create a new desk")).to_be_visible()


async def test_3_a_collision_notice_stays_above_the_stickers_under_it(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    # A pile of big stickers over the corner where notices appear.
    for x in (550, 700, 850):
        for y in (350, 500):
            await a_sticker(ann, x=x, y=y, text=f"pile {x} {y}")
    sticker = await a_sticker(ann, x=10, y=10, text="plan")
    await has(bob, sticker, text="plan")

    await ann.context.set_offline(True)
    await ann.evaluate(f"window.desk.edit('{sticker}', {{text: 'Ann plan'}})")
    await bob.evaluate(f"window.desk.edit('{sticker}', {{text: 'Bob plan'}})")
    await saved(bob)
    await ann.context.set_offline(False)

    notice = ann.get_by_role("alert").filter(has_text="Someone else changed")
    restore = notice.get_by_role("button", name="Restore mine")
    await expect(restore).to_be_visible()
    box = await restore.bounding_box()
    assert box is not None
    on_top = await ann.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('.notice') !== null",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top
    await restore.click(timeout=3000)  # a covered button cannot be clicked
    await has(bob, sticker, text="Ann plan")


async def test_4_a_sticker_made_by_double_click_is_selected_and_open_for_typing(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)

    await ann.locator("#viewport").dblclick(position={"x": 400, "y": 300})

    await expect(ann.locator(".sticker.selected")).to_have_count(1)
    await expect(ann.locator(".sticker .text")).to_be_focused()
    await ann.keyboard.type("Typed at once")
    await ann.keyboard.press("Enter")
    [sticker] = (await ann.evaluate("window.desk.stickers()")).keys()
    await has(bob, sticker, text="Typed at once")


async def test_4_new_sticker_from_the_toolbar_is_selected_and_open_for_typing(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)

    await ann.get_by_role("button", name="New sticker").click()

    await expect(ann.locator(".sticker.selected")).to_have_count(1)
    await expect(ann.locator(".sticker .text")).to_be_focused()
    await ann.keyboard.type("From the toolbar")
    await ann.keyboard.press("Enter")
    await expect(ann.get_by_role("note")).to_have_text("From the toolbar")
    await saved(ann)


async def test_8_a_desk_opened_before_opens_and_edits_offline_after_a_reload(site: Site):
    desk_id = await a_desk(site)
    context = await a_context(site)
    page = await open_desk(site, desk_id, context)
    await a_sticker(page, x=40, y=40, text="kept for offline")
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await page.wait_for_function(
        f"(localStorage.getItem('tessera.desk.state.{desk_id}') ?? '').includes('kept for offline')"
    )

    await context.set_offline(True)
    reloaded = await page.reload(wait_until="domcontentloaded")
    assert reloaded is not None and reloaded.from_service_worker
    await page.evaluate("window.desk.ready")

    await expect(page.get_by_role("note")).to_have_text("kept for offline")
    await expect(page.get_by_role("status")).to_have_text("Offline — 0 pending")
    made = await page.evaluate("window.desk.createSticker({x: 300, y: 40, text: 'made offline'})")
    await expect(page.get_by_role("status")).to_have_text("Offline — 1 pending")

    await context.set_offline(False)
    await saved(page)
    stickers = (await site.http.get(f"/api/desk/{desk_id}")).json()["stickers"]
    assert {s["id"]: s["text"] for s in stickers}[made] == "made offline"


async def test_9_a_remote_cursor_label_never_covers_sticker_text_and_goes_when_offline(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    await a_sticker(ann, x=100, y=100, text="read me")
    await expect(bob.get_by_role("note")).to_have_text("read me")
    note = await bob.get_by_role("note").bounding_box()
    assert note is not None

    await bob.mouse.move(note["x"] + 20, note["y"] + 20)
    await bob.mouse.move(note["x"] + 30, note["y"] + 24)

    cursor = ann.locator(".cursor")
    await expect(cursor).to_have_count(1)
    await expect(cursor.locator("svg")).to_be_visible()
    await expect(cursor.locator(".label")).to_have_css("opacity", "0")

    await bob.mouse.move(note["x"] + 400, note["y"] + 300)  # off the sticker: named again
    await expect(cursor.locator(".label")).to_have_css("opacity", "1")

    await ann.context.set_offline(True)
    await expect(ann.locator(".cursor")).to_have_count(0)
