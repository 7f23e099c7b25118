"""Moving around the canvas: wheel zoom about the cursor, dragging, pinching."""

from playwright.async_api import Page

from tests.browser.conftest import Site

POINT = "([x, y]) => window.tessera.pointOf(x, y)"
SCALE = """() => {
    const a = window.tessera.pointOf(0, 0), b = window.tessera.pointOf(1, 0)
    return b.x - a.x
}"""
PINCH = """([a, b, c]) => {
    const view = document.getElementById('viewport')
    const send = (type, id, [x, y]) => view.dispatchEvent(new PointerEvent(type, {
        pointerId: id, pointerType: 'touch', isPrimary: id === 1, clientX: x, clientY: y,
        bubbles: true,
    }))
    send('pointerdown', 1, a)
    send('pointerdown', 2, b)
    send('pointermove', 2, c)
    send('pointerup', 2, c)
    send('pointerup', 1, a)
}"""


async def point(page: Page, x: int, y: int) -> tuple[float, float]:
    at = await page.evaluate(POINT, [x, y])
    return at["x"], at["y"]


async def test_the_wheel_zooms_about_the_cursor(site: Site):
    page = await site.page(await site.a_canvas(width=64, height=48))
    scale = await page.evaluate(SCALE)
    x, y = await point(page, 40, 30)

    await page.mouse.move(x, y)
    await page.mouse.wheel(0, -400)

    assert await page.evaluate(SCALE) > 1.5 * scale
    after = await point(page, 40, 30)
    assert abs(after[0] - x) < 1 and abs(after[1] - y) < 1


async def test_a_drag_pans_and_selects_nothing(site: Site):
    page = await site.page(await site.a_canvas(width=64, height=48))
    x, y = await point(page, 10, 10)

    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + 60, y + 25, steps=5)
    await page.mouse.up()

    after = await point(page, 10, 10)
    assert abs(after[0] - (x + 60)) < 1 and abs(after[1] - (y + 25)) < 1
    assert await page.locator("#inspector").is_hidden()


async def test_two_fingers_spreading_apart_zoom_in(site: Site):
    page = await site.page(await site.a_canvas(width=64, height=48))
    scale = await page.evaluate(SCALE)

    await page.evaluate(PINCH, [[400, 350], [500, 350], [600, 350]])

    assert abs(await page.evaluate(SCALE) - 2 * scale) < 0.01 * scale
    assert await page.locator("#inspector").is_hidden()  # a pinch is no tap
