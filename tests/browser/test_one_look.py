"""Issue 14, one product: every page — the landing page, Pixel Wars, the desks, the quiz, the
feedback page, the billiards Mini App in a browser — takes its colours, type and components from
/static/style.css, shows the common header, and keeps its own rules under its page's class, so
that no page's rule (`.bar`, `.board`, `.toast`…) reaches another."""

from __future__ import annotations

from playwright.async_api import Page

from tests.browser.canvas.test_product_pages import DESKTOP, visitor
from tests.browser.conftest import Site
from tests.browser.desk.test_desk_page import a_desk

PAGES = {
    "/": "page",
    "/canvas": "app",
    "/desk": "desk-start",
    "/desk/{desk}": "desk",
    "/quiz": "quiz",
    "/quiz/edit": "quiz",
    "/feedback": "page",
    "/billiards": "billiards",
}
"""Each page and the body class its own rules are scoped under."""

LOOK = """() => {
    const probe = (tag, className) => {
        const element = document.createElement(tag)
        element.className = className
        element.hidden = false
        document.body.append(element)
        const style = getComputedStyle(element)
        const seen = {radius: style.borderRadius, background: style.backgroundColor,
                      colour: style.color, font: style.fontFamily, weight: style.fontWeight}
        element.remove()
        return seen
    }
    const root = getComputedStyle(document.documentElement)
    return {
        tokens: ['--bg', '--surface', '--text', '--muted', '--accent', '--line', '--radius', '--tap']
            .map((name) => root.getPropertyValue(name).trim()),
        background: root.backgroundColor,
        font: getComputedStyle(document.body).fontFamily,
        primary: probe('button', 'primary'),
        card: probe('div', 'card'),
        toast: probe('div', 'toast'),
        header: document.querySelectorAll('tessera-header').length,
    }
}"""

OWN_RULES = """(scope) => {
    const shared = new URL('/static/style.css', location.href).href
    const selectors = (rules) => [...rules].flatMap((rule) =>
        rule.cssRules && !rule.selectorText ? selectors(rule.cssRules) : rule.selectorText ? [rule.selectorText] : [])
    return [...document.styleSheets]
        .filter((sheet) => sheet.href !== null && sheet.href !== shared)
        .flatMap((sheet) => selectors(sheet.cssRules).flatMap((list) => list.split(/,(?![^(]*\\))/)))
        .map((selector) => selector.trim())
        .filter((selector) => !new RegExp(`^(body)?[.](${scope})(?![\\\\w-])|^:is\\\\([^)]*[.](${scope})(?![\\\\w-])`).test(selector))
}"""


async def opened(site: Site, path: str, desk: str) -> Page:
    person = await visitor(site, "desktop", DESKTOP)
    page = await person.open(site.url + path.format(desk=desk))
    return page


async def test_every_page_takes_its_look_from_the_design_system_and_shows_the_header(site: Site):
    await site.a_canvas()
    desk = await a_desk(site)
    looks = {}
    for path in PAGES:
        page = await opened(site, path, desk)
        looks[path] = await page.evaluate(LOOK)

    landing = looks["/"]
    for path, look in looks.items():
        assert look["header"] == 1, f"{path} has no common header"
        for part in ("tokens", "background", "font", "primary", "card", "toast"):
            assert look[part] == landing[part], f"{path}: its {part} is not the design system's"


async def test_each_pages_own_rules_are_scoped_under_its_page_class(site: Site):
    await site.a_canvas()
    desk = await a_desk(site)
    for path, scope in PAGES.items():
        page = await opened(site, path, desk)
        # one stylesheet for the pages of a product, each page's rules under its own class
        scopes = {"quiz": "quiz|quiz-host", "desk": "desk|desk-start", "desk-start": "desk|desk-start"}.get(scope, scope)
        assert await page.evaluate(f"document.body.classList.contains('{scope}')"), path
        unscoped = await page.evaluate(OWN_RULES, scopes)
        assert unscoped == [], f"{path}: rules outside .{scope}: {unscoped}"
