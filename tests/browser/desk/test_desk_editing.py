"""What people expect of a desk (tldraw, Excalidraw, Miro): multi-select, copy and paste,
duplicate, nudge, stickers that grow with their text, zoom and zoom to fit, copy link, an
empty-desk hint."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import Site
from tests.browser.desk.test_desk_page import a_desk, a_sticker, has, open_desk, saved, stickers


async def selection(page: Page) -> set[str]:
    return set(await page.evaluate("window.desk.selection()"))


async def test_shift_click_selects_several_and_delete_removes_them_all(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    one = await a_sticker(ann, x=20, y=20, text="one")
    two = await a_sticker(ann, x=300, y=20, text="two")
    three = await a_sticker(ann, x=580, y=20, text="three")

    await ann.get_by_role("note").filter(has_text="one").click()
    await ann.get_by_role("note").filter(has_text="three").click(modifiers=["Shift"])
    assert await selection(ann) == {one, three}
    await expect(ann.locator(".sticker.selected")).to_have_count(2)
    await ann.keyboard.press("Delete")

    await has(bob, one, deleted=True)
    await has(bob, three, deleted=True)
    await has(bob, two, deleted=False)


async def test_a_shift_drag_on_the_board_selects_the_stickers_in_its_box(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    one = await a_sticker(ann, x=20, y=20, text="one")
    two = await a_sticker(ann, x=260, y=20, text="two")
    await a_sticker(ann, x=600, y=300, text="far")
    board = await ann.locator("#viewport").bounding_box()
    assert board is not None

    await ann.keyboard.down("Shift")
    await ann.mouse.move(board["x"] + 5, board["y"] + 5)
    await ann.mouse.down()
    await ann.mouse.move(board["x"] + 300, board["y"] + 120, steps=4)
    await ann.mouse.up()
    await ann.keyboard.up("Shift")

    assert await selection(ann) == {one, two}


async def test_copy_paste_and_duplicate_make_new_stickers_beside_the_originals(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    await a_sticker(ann, x=100, y=100, text="copy me", colour="#90caf9")
    await ann.get_by_role("note").click()

    await ann.keyboard.press("Control+c")
    await ann.keyboard.press("Control+v")
    await ann.keyboard.press("Control+d")

    await expect(bob.get_by_role("note")).to_have_count(3)
    await saved(ann)
    made = sorted(
        (s["x"], s["y"], s["text"], s["colour"]) for s in (await stickers(bob)).values()
    )
    assert made == [
        (100, 100, "copy me", "#90caf9"),
        (124, 124, "copy me", "#90caf9"),
        (148, 148, "copy me", "#90caf9"),
    ]


async def test_arrow_keys_nudge_the_selection(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    sticker = await a_sticker(ann, x=100, y=100, text="nudge")
    await ann.get_by_role("note").click()

    await ann.keyboard.press("ArrowRight")
    await ann.keyboard.press("Shift+ArrowDown")

    await has(bob, sticker, x=101, y=110)


async def test_a_sticker_grows_with_its_text(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    sticker = await a_sticker(ann, x=20, y=20, text="short")
    before = await ann.get_by_role("note").bounding_box()

    await ann.evaluate(
        f"window.desk.edit('{sticker}', {{text: 'a long line of words '.repeat(30)}})"
    )

    assert before is not None
    # the board renders on the next animation frame, late on a busy machine
    await ann.wait_for_function(
        "least => document.querySelector('.sticker').getBoundingClientRect().height > least",
        arg=before["height"] + 100,
    )
    clipped = await ann.evaluate(
        "(e => e.scrollHeight > e.clientHeight)(document.querySelector('.sticker .text'))"
    )
    assert not clipped


async def test_zoom_buttons_ctrl_wheel_and_zoom_to_fit(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    await a_sticker(ann, x=-600, y=-400, text="far up left")
    await a_sticker(ann, x=1500, y=900, text="far down right")

    await ann.get_by_role("button", name="Zoom in").click()
    await expect(ann.locator("#zoom-reset")).to_have_text("125%")
    await ann.mouse.move(500, 400)
    await ann.keyboard.down("Control")
    await ann.mouse.wheel(0, 100)
    await ann.keyboard.up("Control")
    assert await ann.evaluate("window.desk.zoom()") < 1.25

    await ann.get_by_role("button", name="Zoom to fit").click()

    view = await ann.locator("#viewport").bounding_box()
    assert view is not None
    for note in await ann.get_by_role("note").all():
        box = await note.bounding_box()
        assert box is not None
        assert view["x"] <= box["x"] and box["x"] + box["width"] <= view["x"] + view["width"]
        assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"]


async def test_copy_link_puts_the_desk_link_on_the_clipboard(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    await ann.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)

    await ann.get_by_role("button", name="Copy link").click()

    await expect(ann.get_by_role("alert").filter(has_text="Link copied")).to_be_visible()
    assert await ann.evaluate("navigator.clipboard.readText()") == f"{site.url}/desk/{desk_id}"


async def test_an_empty_desk_says_how_to_start_until_it_has_a_sticker(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    hint = ann.get_by_text("Double-click anywhere to add a sticker")
    await expect(hint).to_be_visible()

    await a_sticker(ann, text="first")

    await expect(hint).to_be_hidden()
