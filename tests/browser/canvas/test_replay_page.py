"""The replay page (`/replay?canvas=<id>`): a canvas's history played back, with a version slider,
play and pause and a speed; what it shows at a version is the served snapshot of that version."""

from __future__ import annotations

from playwright.async_api import Page

from tests.browser.canvas.test_product_pages import PHONE, TOO_SMALL
from tests.browser.conftest import PALETTE, WAIT_MS, Site

RAW = {"Accept-Encoding": "identity"}
PAINTED = """([x, y]) => {
    const [r, g, b] = document.getElementById('board').getContext('2d')
        .getImageData(x, y, 1, 1).data
    return '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')
}"""


async def a_replay(site: Site, canvas_id: str, version: int | None = None) -> Page:
    context = await site.browser.new_context(viewport={"width": 900, "height": 700})
    context.set_default_timeout(WAIT_MS)
    site.contexts.append(context)
    page = await context.new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and site.page_errors.append(
        message.text))
    query = f"?canvas={canvas_id}" + (f"&version={version}" if version else "")
    await page.goto(f"{site.url}/replay{query}", wait_until="domcontentloaded")
    await page.evaluate("window.tessera.ready")
    return page


async def a_painted_canvas(site: Site) -> tuple[str, int]:
    """Rows of pixels painted one after another, then the first row painted over."""
    canvas_id = await site.a_canvas(width=16, height=12)
    version = 0
    for i in range(40):
        version = await site.place(canvas_id, i % 16, i // 16, 1 + i % 7)
    for x in range(8):
        version = await site.place(canvas_id, x, 0, 2)
    return canvas_id, version


async def served(site: Site, canvas_id: str, version: int) -> bytes:
    answer = await site.http.get(f"/api/canvas/{canvas_id}/snapshot/{version}", headers=RAW)
    assert answer.status_code == 200
    return answer.content


async def test_play_runs_the_history_to_its_end(site: Site, tmp_path):
    canvas_id, last = await a_painted_canvas(site)
    page = await a_replay(site, canvas_id, version=1)
    assert await page.evaluate("window.tessera.version") == 1
    assert await page.evaluate("window.tessera.pixel(3, 1)") == 0  # nothing painted yet
    await page.select_option("#speed", "100")

    await page.click("#play")
    await page.wait_for_function("window.tessera.version > 1 && window.tessera.version < "
                                 f"{last}")  # under way, not all at once
    await page.wait_for_function(f"window.tessera.version === {last} && !window.tessera.playing")

    final = await served(site, canvas_id, last)
    assert await page.evaluate("window.tessera.pixel(3, 1)") == final[1 * 16 + 3] != 0
    assert await page.evaluate(PAINTED, [5, 0]) == PALETTE[final[5]]
    assert await page.text_content("#play") == "Replay"
    await page.screenshot(path=str(tmp_path / "replay-end.png"))


async def test_the_slider_shows_the_board_of_the_version_it_is_at(site: Site, tmp_path):
    canvas_id, last = await a_painted_canvas(site)
    page = await a_replay(site, canvas_id)
    assert await page.evaluate("window.tessera.version") == last
    middle = 20
    await page.eval_on_selector(
        "#slider", "(slider, v) => { slider.value = v; slider.dispatchEvent(new Event('change')) }",
        middle)
    await page.wait_for_function(f"window.tessera.version === {middle}")
    await page.wait_for_timeout(50)  # the frame that draws it
    expected = await served(site, canvas_id, middle)
    shown = await page.evaluate("""() => Array.from({length: 16 * 12},
        (_, i) => window.tessera.pixel(i % 16, Math.floor(i / 16)))""")
    assert shown == list(expected)
    assert await page.evaluate(PAINTED, [2, 0]) == PALETTE[expected[2]] != PALETTE[2]
    assert "version 20 of" in await page.text_content("#version")
    await page.screenshot(path=str(tmp_path / "replay-slider.png"))


async def test_pause_stops_the_board(site: Site):
    canvas_id, last = await a_painted_canvas(site)
    page = await a_replay(site, canvas_id, version=1)
    await page.select_option("#speed", "10")
    await page.click("#play")
    await page.wait_for_function("window.tessera.version >= 3")
    await page.click("#play")  # now "Pause"
    await page.wait_for_function("!window.tessera.playing")
    stopped = await page.evaluate("window.tessera.version")
    await page.wait_for_timeout(400)  # four ticks would have passed
    assert await page.evaluate("window.tessera.version") == stopped < last
    assert await page.text_content("#play") == "Play"


async def test_an_unknown_canvas_says_so(site: Site):
    context = await site.browser.new_context()
    site.contexts.append(context)
    page = await context.new_page()
    await page.goto(f"{site.url}/replay?canvas=00000000-0000-0000-0000-000000000000")
    status = page.locator("#status")
    await status.filter(has_text="Could not load").wait_for()
    assert await status.get_attribute("data-state") == "offline"


async def test_a_canvas_nothing_was_painted_on_has_no_history_to_play(site: Site):
    canvas_id = await site.a_canvas(width=16, height=12)
    page = await a_replay(site, canvas_id)
    assert await page.locator("#status").text_content() == "No history yet"
    assert await page.locator("#empty").is_visible()
    assert await page.locator("#play").is_disabled()
    assert site.page_errors == []


async def test_the_replay_page_fits_a_phone(site: Site, tmp_path):
    canvas_id, _ = await a_painted_canvas(site)
    context = await site.browser.new_context(**PHONE)
    context.set_default_timeout(WAIT_MS)
    site.contexts.append(context)
    page = await context.new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    await page.goto(f"{site.url}/replay?canvas={canvas_id}", wait_until="domcontentloaded")
    await page.evaluate("window.tessera.ready")
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    assert await page.evaluate(TOO_SMALL) == []
    assert await page.locator("#board").bounding_box() is not None
    await page.screenshot(path=str(tmp_path / "replay-phone.png"))
