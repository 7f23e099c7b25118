"""Sticker desks in the browser: two Chromium pages on the same desk, live and offline."""

from __future__ import annotations

import json
import re
from typing import Any
from uuid import uuid4

from playwright.async_api import BrowserContext, Page, WebSocketRoute, expect

from tests.browser.conftest import NOT_LOOPBACK, WAIT_MS, Site


async def a_context(site: Site) -> BrowserContext:
    """A visitor with storage of its own (localStorage, IndexedDB)."""
    context = await site.browser.new_context(viewport={"width": 1000, "height": 700})
    context.set_default_timeout(WAIT_MS)
    await context.route(NOT_LOOPBACK, lambda route: route.abort())
    site.contexts.append(context)
    return context


async def open_desk(site: Site, desk_id: str, context: BrowserContext | None = None) -> Page:
    page = await (context or await a_context(site)).new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    await page.goto(f"{site.url}/desk/{desk_id}", wait_until="domcontentloaded")
    await page.evaluate("window.desk.ready")
    return page


async def a_desk(site: Site) -> str:
    answer = await site.http.post(
        "/api/desk/init", json={"name": f"desk {uuid4().hex[:8]}", "create_new": True}
    )
    assert answer.status_code == 200, answer.text
    desk_id: str = answer.json()["desk_id"]
    return desk_id


async def a_desk_made_in_the_page(site: Site) -> tuple[Page, str]:
    """A desk created on /desk: that page's browser holds its creator token."""
    page = await (await a_context(site)).new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    await page.goto(f"{site.url}/desk", wait_until="domcontentloaded")
    await page.get_by_label("Desk name").fill(f"Team board {uuid4().hex[:6]}")
    await page.get_by_role("button", name="Create a new one").click()
    await page.wait_for_url("**/desk/*")
    await page.evaluate("window.desk.ready")
    return page, page.url.rsplit("/", 1)[1]


async def a_sticker(page: Page, **fields: Any) -> str:
    sticker: str = await page.evaluate("fields => window.desk.createSticker(fields)", fields)
    await saved(page)
    return sticker


async def saved(page: Page) -> None:
    await page.wait_for_function("window.desk.syncState === 'Saved' && window.desk.pending() === 0")
    await expect(page.get_by_role("status")).to_have_text("Saved")


async def has(page: Page, sticker: str, **fields: Any) -> None:
    await page.wait_for_function(
        """([id, fields]) => {
            const sticker = window.desk.stickers()[id]
            return sticker !== undefined && Object.entries(fields).every(([k, v]) => sticker[k] === v)
        }""",
        arg=[sticker, fields],
    )


async def stickers(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("window.desk.stickers()")
    return result


async def test_a_sticker_made_on_the_board_reaches_the_other_page_and_concurrent_edits_converge(
    site: Site,
):
    ann, desk_id = await a_desk_made_in_the_page(site)
    bob = await open_desk(site, desk_id)

    await ann.locator("#viewport").dblclick(position={"x": 400, "y": 300})
    await expect(ann.get_by_role("note")).to_have_count(1)
    [sticker] = (await stickers(ann)).keys()
    await expect(bob.get_by_role("note")).to_have_count(1)
    await saved(ann)

    await ann.get_by_role("note").dblclick()
    await ann.keyboard.type("Buy milk")
    await ann.keyboard.press("Enter")
    await bob.evaluate(f"window.desk.edit('{sticker}', {{colour: '#90caf9'}})")

    for page in (ann, bob):
        await has(page, sticker, text="Buy milk", colour="#90caf9")
        await saved(page)
    assert await stickers(ann) == await stickers(bob)
    await expect(bob.get_by_role("note")).to_have_text("Buy milk")


async def test_edits_made_offline_are_sent_on_reconnect_and_both_pages_converge(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    one = await a_sticker(ann, x=10, y=10, text="one")
    two = await a_sticker(ann, x=300, y=10, text="two")
    await has(bob, two, text="two")

    await ann.context.set_offline(True)
    await ann.evaluate(f"window.desk.edit('{one}', {{x: 120, y: 80}})")
    await ann.evaluate(f"window.desk.edit('{two}', {{text: 'two, offline'}})")
    await expect(ann.get_by_role("status")).to_have_text("Offline — 2 pending")
    await bob.evaluate(f"window.desk.edit('{one}', {{colour: '#a5d6a7'}})")
    await bob.evaluate(f"window.desk.remove('{two}')")
    await saved(bob)
    await ann.context.set_offline(False)

    for page in (ann, bob):
        await has(page, one, x=120, y=80, colour="#a5d6a7")
        await has(page, two, deleted=True)
        await saved(page)
    assert await stickers(ann) == await stickers(bob)


async def test_a_tab_closed_while_offline_sends_its_outbox_when_the_desk_is_opened_again(
    site: Site,
):
    desk_id = await a_desk(site)
    context = await a_context(site)
    ann = await open_desk(site, desk_id, context)
    bob = await open_desk(site, desk_id)
    sticker = await a_sticker(ann, text="draft")
    await has(bob, sticker, text="draft")

    await context.set_offline(True)
    await ann.evaluate(f"window.desk.edit('{sticker}', {{text: 'written offline'}})")
    made = await ann.evaluate("window.desk.createSticker({x: 500, y: 200, text: 'new offline'})")
    await expect(ann.get_by_role("status")).to_have_text("Offline — 2 pending")
    await ann.close()
    await context.set_offline(False)

    again = await open_desk(site, desk_id, context)
    await has(bob, sticker, text="written offline")
    await has(bob, made, text="new offline")
    await saved(again)
    assert await stickers(again) == await stickers(bob)


async def test_a_lost_text_shows_a_collision_notice_and_restore_mine_wins_everywhere(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    sticker = await a_sticker(ann, text="plan")
    await has(bob, sticker, text="plan")

    await ann.context.set_offline(True)
    await ann.evaluate(f"window.desk.edit('{sticker}', {{text: 'Ann plan'}})")
    await expect(ann.get_by_role("status")).to_have_text("Offline — 1 pending")
    await bob.evaluate(f"window.desk.edit('{sticker}', {{text: 'Bob plan'}})")
    await saved(bob)
    await ann.context.set_offline(False)

    notice = ann.get_by_role("alert").filter(has_text="Someone else changed")
    await expect(notice).to_contain_text("Bob plan")
    await expect(notice.get_by_role("button", name="Kept theirs")).to_be_visible()
    await has(ann, sticker, text="Bob plan")
    assert await ann.evaluate("window.desk.collisions()") == [
        {"sticker": sticker, "field": "text", "lost": "Ann plan", "winner": "Bob plan"}
    ]
    assert await bob.evaluate("window.desk.collisions()") == []

    await notice.get_by_role("button", name="Restore mine").click()

    await expect(notice).to_have_count(0)
    for page in (ann, bob):
        await has(page, sticker, text="Ann plan")
        await saved(page)


async def test_undo_reverts_only_the_fields_whose_value_is_still_your_own(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    sticker = await a_sticker(ann, text="", colour="#fff59d")
    await ann.evaluate(f"window.desk.edit('{sticker}', {{text: 'Ann text', colour: '#f48fb1'}})")
    await has(bob, sticker, text="Ann text")
    await bob.evaluate(f"window.desk.edit('{sticker}', {{colour: '#90caf9'}})")
    await has(ann, sticker, colour="#90caf9")

    await ann.keyboard.press("Control+z")

    for page in (ann, bob):
        await has(page, sticker, text="", colour="#90caf9", deleted=False)
        await saved(page)

    await ann.get_by_role("button", name="Redo").click()
    await has(bob, sticker, text="Ann text", colour="#90caf9")


async def test_others_cursors_are_shown_with_their_name_and_listed_as_here(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)

    await bob.mouse.move(300, 300)
    await bob.mouse.move(320, 310)

    bob_name = await bob.evaluate("localStorage.getItem('tessera.desk.name')")
    assert bob_name
    await expect(ann.locator(".cursor")).to_have_text(bob_name)
    await expect(ann.get_by_role("list", name="Who is here")).to_contain_text(bob_name)
    await bob.close()
    await expect(ann.locator(".cursor")).to_have_count(0)
    await expect(ann.get_by_role("list", name="Who is here")).not_to_contain_text(bob_name)


async def test_a_drag_is_shown_to_others_while_it_lasts_and_only_the_drop_is_a_change(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    sticker = await a_sticker(ann, x=100, y=100, text="move me")
    await has(bob, sticker, x=100, y=100)
    box = await ann.get_by_role("note").bounding_box()
    assert box is not None

    await ann.mouse.move(box["x"] + 50, box["y"] + 50)
    await ann.mouse.down()
    await ann.mouse.move(box["x"] + 100, box["y"] + 80, steps=5)
    await ann.mouse.move(box["x"] + 150, box["y"] + 110, steps=5)

    await expect(bob.locator(".sticker.moving-elsewhere")).to_have_count(1)
    assert (await stickers(bob))[sticker]["x"] == 100
    assert await ann.evaluate("window.desk.pending()") == 0

    await ann.mouse.up()

    await has(bob, sticker, x=200, y=160)
    await expect(bob.locator(".sticker.moving-elsewhere")).to_have_count(0)


async def test_the_corner_handle_resizes_a_sticker(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    sticker = await a_sticker(ann, x=50, y=50)
    box = await ann.locator(".sticker .resize").bounding_box()
    assert box is not None

    await ann.mouse.move(box["x"] + 8, box["y"] + 8)
    await ann.mouse.down()
    await ann.mouse.move(box["x"] + 108, box["y"] + 58, steps=5)
    await ann.mouse.up()

    await has(bob, sticker, w=300, h=250)


async def test_the_toolbar_colours_and_raises_the_selected_sticker(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    lower = await a_sticker(ann, x=0, y=0, text="lower")
    upper = await a_sticker(ann, x=300, y=0, text="upper")

    await ann.get_by_role("note").filter(has_text="lower").click()
    await ann.get_by_role("button", name="Blue").click()
    await ann.get_by_role("button", name="Bring to front").click()

    await has(bob, lower, colour="#90caf9")
    await bob.wait_for_function(f"(s => s['{lower}'].z > s['{upper}'].z)(window.desk.stickers())")


async def test_the_delete_key_removes_the_selected_sticker_for_everyone(site: Site):
    desk_id = await a_desk(site)
    ann = await open_desk(site, desk_id)
    bob = await open_desk(site, desk_id)
    sticker = await a_sticker(ann, text="bin me")
    await expect(bob.get_by_role("note")).to_have_count(1)

    await ann.get_by_role("note").click()
    await ann.keyboard.press("Delete")

    await has(bob, sticker, deleted=True)
    await expect(bob.get_by_role("note")).to_have_count(0)
    await expect(ann.get_by_role("note")).to_have_count(0)


async def test_the_creator_finishes_the_session_every_page_is_told_and_edits_go_on(site: Site):
    ann, desk_id = await a_desk_made_in_the_page(site)
    bob = await open_desk(site, desk_id)
    sticker = await a_sticker(ann, text="before")
    await has(bob, sticker, text="before")
    await expect(bob.get_by_role("button", name="Finish session")).to_be_hidden()
    await expect(ann.get_by_role("button", name="Undo")).to_be_enabled()

    await ann.get_by_role("button", name="Finish session").click()
    await ann.get_by_role("dialog").get_by_role("button", name="Keep the session").click()
    assert (await site.http.get(f"/api/desk/{desk_id}")).json()["epoch"] == 1

    await ann.get_by_role("button", name="Finish session").click()
    await ann.get_by_role("dialog").get_by_role("button", name="Finish for everyone").click()

    told = bob.get_by_role("alert").filter(has_text="finished by the desk’s creator")
    await expect(told).to_contain_text("you are now in a new session")
    await expect(
        ann.get_by_role("alert").filter(has_text="You finished the session")
    ).to_be_visible()
    await expect(ann.get_by_role("button", name="Undo")).to_be_disabled()
    for page in (ann, bob):
        await page.wait_for_function(
            "window.desk.epoch() === 2 && window.desk.state() === 'synced'"
        )
    await told.get_by_role("button", name="OK").click()
    await expect(told).to_be_hidden()

    await bob.evaluate(f"window.desk.edit('{sticker}', {{text: 'after'}})")
    await has(ann, sticker, text="after")
    made = await ann.evaluate("window.desk.createSticker({x: 400, y: 200, text: 'new session'})")
    await has(bob, made, text="new session")
    for page in (ann, bob):
        await saved(page)
    assert await stickers(ann) == await stickers(bob)


async def test_a_page_away_while_the_session_was_finished_is_told_on_reconnecting(site: Site):
    ann, desk_id = await a_desk_made_in_the_page(site)
    bob = await open_desk(site, desk_id)
    await bob.context.set_offline(True)
    await expect(bob.get_by_role("status")).to_have_text("Offline — 0 pending")

    await ann.get_by_role("button", name="Finish session").click()
    await ann.get_by_role("dialog").get_by_role("button", name="Finish for everyone").click()
    await expect(
        ann.get_by_role("alert").filter(has_text="You finished the session")
    ).to_be_visible()
    await bob.context.set_offline(False)

    told = bob.get_by_role("alert").filter(has_text="A new session began while you were away")
    await expect(told).to_be_visible()
    await bob.wait_for_function("window.desk.epoch() === 2")


async def test_a_page_counts_its_own_ops_by_their_acks_and_never_asks_again(site: Site):
    """The server does not echo an author's ops back: a page's `desk_seq` moves on through its
    acks and the others' ops, with no second hello to fill what looks like a gap."""
    desk_id = await a_desk(site)
    ann, bob = await open_desk(site, desk_id), await open_desk(site, desk_id)
    hellos = {"ann": 0, "bob": 0}
    for name, page in (("ann", ann), ("bob", bob)):
        page.on(
            "websocket",
            lambda socket, name=name: socket.on(
                "framesent",
                lambda frame: hellos.__setitem__(name, hellos[name] + ('"hello"' in str(frame))),
            ),
        )
    for page in (ann, bob):
        await page.reload()  # a socket of its own from the first frame on, counted
        await page.evaluate("window.desk.ready")
        await saved(page)
    sticker = await a_sticker(ann, text="one")
    for turn in range(6):
        page = (bob, ann)[turn % 2]
        await page.evaluate(f"window.desk.edit('{sticker}', {{x: {10 * turn}}})")
        await saved(page)

    desk_seq = (await site.http.get(f"/api/desk/{desk_id}")).json()["desk_seq"]
    assert desk_seq == 7
    for page in (ann, bob):
        await page.wait_for_function(f"window.desk.lastSeq() === {desk_seq}", timeout=WAIT_MS)
    assert hellos == {"ann": 1, "bob": 1}


async def test_an_op_told_to_try_again_is_sent_again_and_counted_once(site: Site):
    """`try_again` (the server lost a write race: nothing saved) makes the page send the same op
    again a moment later; the page settles at Saved and the desk holds the op once."""
    desk_id = await a_desk(site)
    context = await a_context(site)
    sent: list[dict] = []
    told: list[dict] = []

    def intercept(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def to_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "op":
                sent.append(frame)
            server.send(message)

        def to_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "ack" and not told:  # the first answer becomes try_again
                told.append(frame)
                message = json.dumps({"type": "error", "error": "try_again", "wait_ms": 100,
                                      "detail": "another node kept writing first",
                                      "client_seq": frame["client_seq"]})
            socket.send(message)

        socket.on_message(to_server)
        server.on_message(to_page)

    await context.route_web_socket(re.compile(r".*/api/desk/.*/live$"), intercept)
    page = await open_desk(site, desk_id, context)
    sticker = await a_sticker(page, text="once")

    assert [op["client_seq"] for op in sent] == [1, 1]
    assert sent[0]["sticker"] == sent[1]["sticker"] == sticker
    desk = (await site.http.get(f"/api/desk/{desk_id}")).json()
    assert desk["desk_seq"] == 1 and [s["text"] for s in desk["stickers"]] == ["once"]
