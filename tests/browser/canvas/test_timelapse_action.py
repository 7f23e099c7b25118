"""The canvas page's "Timelapse" action: it starts a render, shows its progress as a bar, then
plays the finished video and offers it to download."""

from __future__ import annotations

from tests.browser.conftest import Site

STEPS = """() => {
    window.steps = []
    const dialog = document.getElementById('timelapse-dialog')
    new MutationObserver(() => window.steps.push(dialog.dataset.step))
        .observe(dialog, { attributes: true, attributeFilter: ['data-step'] })
}"""


async def test_a_timelapse_shows_its_progress_then_plays(make_site, tmp_path):
    site: Site = await make_site(data_dir=tmp_path)
    canvas_id = await site.a_canvas(width=16, height=12)
    for i in range(30):
        await site.place(canvas_id, i % 16, i // 16, 1 + i % 7)
    page = await site.page(canvas_id)
    await page.evaluate(STEPS)

    await page.click("#timelapse")
    dialog = page.locator("#timelapse-dialog")
    await dialog.get_by_label("Length").select_option("5")
    await dialog.get_by_label("Format").select_option("webm")
    await dialog.get_by_role("button", name="Make the timelapse").click()

    video = dialog.locator("video")
    await video.wait_for(state="visible", timeout=120_000)
    await page.wait_for_function(
        "document.querySelector('#timelapse-dialog video').readyState >= 1", timeout=30_000)
    steps = await page.evaluate("window.steps")
    assert "rendering" in steps and steps[-1] == "done", steps
    assert await dialog.locator("progress").evaluate("bar => bar.value") == 1
    duration = await video.evaluate("v => v.duration")
    assert 4.5 <= duration <= 5.5
    assert "150 frames" in await dialog.locator("[data-field=state]").text_content()
    href = await dialog.get_by_role("link", name="Download the video").get_attribute("href")
    served = await site.http.get(href)
    assert served.status_code == 200 and served.content.startswith(b"\x1a\x45\xdf\xa3")  # EBML
    assert await video.evaluate("v => new URL(v.currentSrc).pathname") == href
    await page.screenshot(path=str(tmp_path / "timelapse-done.png"))


async def test_the_same_timelapse_asked_again_is_ready_at_once(make_site, tmp_path):
    site: Site = await make_site(data_dir=tmp_path)
    canvas_id = await site.a_canvas(width=16, height=12)
    for i in range(10):
        await site.place(canvas_id, i, 3, 2)
    page = await site.page(canvas_id)
    dialog = page.locator("#timelapse-dialog")
    for _ in range(2):
        await page.click("#timelapse")
        await dialog.get_by_label("Length").select_option("5")
        await dialog.get_by_role("button", name="Make the timelapse").click()
        await dialog.locator("video").wait_for(state="visible", timeout=120_000)
        await dialog.get_by_role("button", name="Close").click()
    await page.evaluate(STEPS)
    await page.click("#timelapse")
    await dialog.get_by_role("button", name="Make the timelapse").click()
    await dialog.locator("video").wait_for(state="visible")
    assert "rendering" not in await page.evaluate("window.steps")
