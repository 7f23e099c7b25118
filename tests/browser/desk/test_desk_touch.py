"""The desk on a touch screen, driven the way a phone's touches reach Chromium (CDP
`Input.dispatchTouchEvent`, so the browser makes the pointer events itself): two fingers spreading
apart zoom in about their midpoint, pinching together zooms out, and a double tap on the board adds
a sticker open for typing."""

from __future__ import annotations

from typing import Any

from playwright.async_api import CDPSession, Page, expect

from tests.browser.conftest import Site
from tests.browser.desk.test_desk_layout import PHONE, a_device, console_errors, load
from tests.browser.desk.test_desk_page import a_desk

STEPS = 8


async def touch(cdp: CDPSession, kind: str, points: list[tuple[float, float]]) -> None:
    await cdp.send(
        "Input.dispatchTouchEvent",
        {"type": kind, "touchPoints": [{"x": x, "y": y, "id": n} for n, (x, y) in enumerate(points)]},
    )


async def pinch(cdp: CDPSession, centre: tuple[float, float], start: float, end: float) -> None:
    """Two fingers on either side of `centre`, `start` px apart, moved until `end` px apart."""
    cx, cy = centre

    def fingers(gap: float) -> list[tuple[float, float]]:
        return [(cx - gap / 2, cy), (cx + gap / 2, cy)]

    await touch(cdp, "touchStart", fingers(start))
    for step in range(1, STEPS + 1):
        await touch(cdp, "touchMove", fingers(start + (end - start) * step / STEPS))
    await touch(cdp, "touchEnd", [])


async def tap(cdp: CDPSession, x: float, y: float) -> None:
    await touch(cdp, "touchStart", [(x, y)])
    await touch(cdp, "touchEnd", [])


async def on_a_phone(site: Site) -> tuple[Page, CDPSession, list[str]]:
    page = await (await a_device(site, PHONE)).new_page()
    errors = console_errors(page, site)
    await load(page, f"{site.url}/desk/{await a_desk(site)}")
    return page, await page.context.new_cdp_session(page), errors


async def board_point(page: Page, x: float, y: float) -> dict[str, Any]:
    """The board coordinates under a screen point (what stays under the fingers' midpoint)."""
    point: dict[str, Any] = await page.evaluate(
        """([x, y]) => {
            const box = document.getElementById('board').getBoundingClientRect()
            const scale = window.desk.zoom()
            return {x: (x - box.left) / scale, y: (y - box.top) / scale}
        }""",
        [x, y],
    )
    return point


async def test_two_fingers_spreading_apart_zoom_in_about_their_midpoint(site: Site):
    page, cdp, errors = await on_a_phone(site)
    before = await page.evaluate("window.desk.zoom()")
    under = await board_point(page, 195, 420)

    await pinch(cdp, (195, 420), start=80, end=240)

    after = await page.evaluate("window.desk.zoom()")
    assert after > 2 * before  # three times as far apart: about three times the zoom
    held = await board_point(page, 195, 420)
    assert abs(held["x"] - under["x"]) < 1 and abs(held["y"] - under["y"]) < 1
    await expect(page.locator("#zoom-reset")).to_have_text(f"{round(after * 100)}%")
    assert await page.evaluate("Object.keys(window.desk.stickers()).length") == 0  # no tap, no sticker
    assert errors == []


async def test_pinching_together_zooms_out(site: Site):
    page, cdp, errors = await on_a_phone(site)
    before = await page.evaluate("window.desk.zoom()")

    await pinch(cdp, (195, 420), start=240, end=80)

    assert await page.evaluate("window.desk.zoom()") < before / 2
    assert errors == []


async def test_a_double_tap_adds_a_sticker_open_for_typing(site: Site):
    page, cdp, errors = await on_a_phone(site)

    await tap(cdp, 160, 380)
    await tap(cdp, 160, 380)

    sticker = page.locator(".sticker.selected")
    await expect(sticker).to_have_count(1)
    await expect(page.locator(".sticker .text")).to_be_focused()
    box = await sticker.bounding_box()
    assert box is not None and box["x"] <= 160 <= box["x"] + box["width"] + 1
    assert errors == []


async def test_two_single_taps_apart_add_nothing(site: Site):
    page, cdp, errors = await on_a_phone(site)

    await tap(cdp, 100, 300)
    await tap(cdp, 300, 600)

    await expect(page.locator(".sticker")).to_have_count(0)
    assert errors == []
