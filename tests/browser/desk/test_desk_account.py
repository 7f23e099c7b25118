"""Defect 1 of issue 14 across browsers: a desk is found by its name by the browser that created
or opened it and by the signed-in account that did, in any of its browsers (the account's token
goes with the desk page's API calls and its socket hello)."""

from __future__ import annotations

from uuid import uuid4

from playwright.async_api import BrowserContext, Page, expect

from tests.browser.conftest import Site
from tests.browser.desk.test_desk_defects import open_by_name
from tests.browser.desk.test_desk_page import a_context, a_desk, open_desk


async def signed_in(site: Site, sub: str, name: str) -> BrowserContext:
    """A browser of its own, signed in on the Pixel Wars page (the origin's one sign-in)."""
    context = await a_context(site)
    page = await context.new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    await page.goto(f"{site.url}/canvas", wait_until="domcontentloaded")
    await page.evaluate("window.tessera.ready")
    token = site.google.id_token(sub=sub, name=name)
    await page.evaluate("token => window.tessera.signInWithGoogle(token)", token)
    await page.close()
    return context


async def create_by_name(page: Page, site: Site, name: str) -> str:
    await page.goto(f"{site.url}/desk", wait_until="domcontentloaded")
    await page.get_by_label("Desk name").fill(name)
    await page.get_by_role("button", name="Create a new one").click()
    await page.wait_for_url("**/desk/*")
    await page.evaluate("window.desk.ready")
    return page.url.rsplit("/", 1)[1]


async def test_a_desk_created_signed_in_is_found_by_name_in_another_browser_of_the_account(
    site: Site,
):
    sub, name = f"sub-{uuid4().hex}", f"Roadmap {uuid4().hex[:6]}"
    await site.a_canvas()
    laptop = await (await signed_in(site, sub, "Ada Account")).new_page()
    desk_id = await create_by_name(laptop, site, name)

    phone = await (await signed_in(site, sub, "Ada Account")).new_page()
    await open_by_name(phone, site, name)

    await phone.wait_for_url(f"**/desk/{desk_id}")
    await phone.evaluate("window.desk.ready")
    stranger = await (await signed_in(site, f"sub-{uuid4().hex}", "Sid Stranger")).new_page()
    await open_by_name(stranger, site, name)
    await expect(stranger.get_by_role("alertdialog")).to_contain_text("browser or account")


async def test_a_desk_opened_before_signing_in_is_the_accounts_once_its_page_says_hello(
    site: Site,
):
    """The browser kept its session of the desk (no new one is asked for): only the socket's
    hello tells the server who is signed in now."""
    sub = f"sub-{uuid4().hex}"
    await site.a_canvas()
    desk_id = await a_desk(site)
    name = (await site.http.get(f"/api/desk/{desk_id}")).json()["name"]
    laptop = await a_context(site)
    await (await open_desk(site, desk_id, laptop)).close()
    await (await signed_in(site, sub, "Bo Both")).close()  # its own browser: nothing of the desk
    later = await signed_in_in(site, laptop, sub)
    sessions = await later.evaluate("id => localStorage.getItem(`tessera.desk.${id}`)", desk_id)

    await later.goto(f"{site.url}/desk/{desk_id}", wait_until="domcontentloaded")
    await later.evaluate("window.desk.ready")
    await later.wait_for_function("window.desk.syncState === 'Saved'")
    assert await later.evaluate(
        "id => localStorage.getItem(`tessera.desk.${id}`)", desk_id
    ) == sessions  # the kept session: no POST …/session

    phone = await (await signed_in(site, sub, "Bo Both")).new_page()
    await open_by_name(phone, site, name)
    await phone.wait_for_url(f"**/desk/{desk_id}")


async def signed_in_in(site: Site, context: BrowserContext, sub: str) -> Page:
    page = await context.new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    await page.goto(f"{site.url}/canvas", wait_until="domcontentloaded")
    await page.evaluate("window.tessera.ready")
    token = site.google.id_token(sub=sub, name="Bo Both")
    await page.evaluate("token => window.tessera.signInWithGoogle(token)", token)
    return page
