"""The Pixel Wars page as players and spectators use it."""

import json
import re
from uuid import UUID, uuid4

from playwright.async_api import Page, WebSocketRoute, expect

from commands.actor import Actor
from commands.canvas.wire import PlacePixel
from tests.browser.conftest import WAIT_MS, Site


async def has_pixel(page: Page, x: int, y: int, colour: int) -> None:
    await page.wait_for_function(
        "([x, y, colour]) => window.tessera.pixel(x, y) === colour", arg=[x, y, colour]
    )


async def click_pixel(page: Page, x: int, y: int) -> None:
    point = await page.evaluate("([x, y]) => window.tessera.pointOf(x, y)", [x, y])
    await page.mouse.click(point["x"], point["y"])


async def playing(page: Page) -> None:
    await page.wait_for_function("window.tessera.state === 'playing'")


async def test_a_pixel_placed_by_clicking_reaches_another_player(site: Site):
    canvas = await site.a_canvas(cooldown_ms=60_000)
    ann = await site.player(canvas, "Ann Example")
    bob = await site.player(canvas, "Bob Builder")
    await playing(ann)
    await expect(ann.get_by_role("status")).to_have_text("Playing", timeout=WAIT_MS)

    await click_pixel(ann, 5, 7)
    await ann.get_by_role("button", name=re.compile(r"^Colour 3,")).click()
    await ann.get_by_role("button", name="Place").click()

    await has_pixel(bob, 5, 7, 2)
    await has_pixel(ann, 5, 7, 2)
    await expect(ann.locator("#cooldown")).to_contain_text("Next pixel in 0:")
    await expect(ann.get_by_role("button", name="Place")).to_be_disabled()


async def test_a_spectator_sees_a_placed_pixel_at_its_next_poll(make_site):
    site = await make_site(canvas={"live_spectators": 0})  # no live seats here: polling
    canvas = await site.a_canvas()
    spectator = await site.page(canvas)
    await expect(spectator.get_by_role("status")).to_have_text("Spectating — sign in to play")
    await expect(spectator.get_by_role("button", name="Sign in to place")).to_be_enabled()

    await site.place(canvas, 3, 4, 5)

    await has_pixel(spectator, 3, 4, 5)
    assert await spectator.evaluate("window.tessera.state") == "spectating"
    await expect(spectator.locator("#connection")).to_contain_text("polling")


async def test_a_player_back_online_catches_up_without_reloading(site: Site):
    canvas = await site.a_canvas()
    player = await site.player(canvas, "Cat Offline")
    await playing(player)
    await player.evaluate("window.sameDocument = true")

    await player.context.set_offline(True)
    placed = [(x, 1, 1 + x % 7) for x in range(6)]
    for x, y, colour in placed:
        last = await site.place(canvas, x, y, colour)
    await player.context.set_offline(False)

    await player.wait_for_function(f"window.tessera.version >= {last}")
    for x, y, colour in placed:
        assert await player.evaluate(f"window.tessera.pixel({x}, {y})") == colour
    assert await player.evaluate("window.sameDocument") is True
    assert await player.evaluate("performance.getEntriesByType('navigation').length") == 1
    await playing(player)


async def test_a_player_whose_socket_is_lost_reconnects_and_catches_up(site: Site):
    canvas = await site.a_canvas()
    player = await site.player(canvas, "Dan Dropped")
    await playing(player)
    await player.evaluate("window.sameDocument = true")
    sockets: list[str] = []
    player.on("websocket", lambda socket: sockets.append(socket.url))

    async with site.outage():
        await expect(player.locator("#connection")).to_contain_text("reconnecting")
        assert await player.evaluate("window.tessera.state") == "connecting"
        for x in range(4):  # placed meanwhile, where the page cannot hear of it
            await site.parts["canvas"].canvases.execute(
                UUID(canvas), Actor(f"writer-{x}"), PlacePixel(x=x, y=5, colour=3)
            )

    await player.wait_for_function("[0, 1, 2, 3].every(x => window.tessera.pixel(x, 5) === 3)")
    await playing(player)
    await expect(player.locator("#connection")).to_contain_text("live")
    assert await player.evaluate("window.sameDocument") is True
    # The new socket asked to be brought up to date from the version the page held. (While no
    # socket was open the page polled the snapshot, which may have brought the pixels first.)
    assert sockets and all("since=" in url for url in sockets), sockets


async def test_a_spectator_whose_socket_is_lost_reconnects_and_catches_up_over_it(site: Site):
    canvas = await site.a_canvas()
    spectator = await site.page(canvas)
    await expect(spectator.locator("#connection")).to_contain_text("live")
    sockets: list[str] = []
    spectator.on("websocket", lambda socket: sockets.append(socket.url))

    async with site.outage():
        await expect(spectator.locator("#connection")).not_to_contain_text("live")
        for x in range(3):
            await site.parts["canvas"].canvases.execute(
                UUID(canvas), Actor(f"writer-{x}"), PlacePixel(x=x, y=6, colour=4)
            )

    await spectator.wait_for_function("[0, 1, 2].every(x => window.tessera.pixel(x, 6) === 4)")
    await expect(spectator.locator("#connection")).to_contain_text("live")
    assert await spectator.evaluate("window.tessera.state") == "spectating"
    assert sockets and all("since=" in url for url in sockets), sockets


async def test_the_inspector_tells_who_placed_a_pixel(site: Site):
    canvas = await site.a_canvas()
    ann = await site.player(canvas, "Ann Inspector")
    await playing(ann)
    await ann.evaluate("window.tessera.place(9, 2, 6)")
    spectator = await site.page(canvas)
    await has_pixel(spectator, 9, 2, 6)

    await click_pixel(spectator, 9, 2)

    inspector = spectator.get_by_role("complementary")
    await expect(inspector).to_contain_text("Pixel (9, 2)")
    await expect(inspector).to_contain_text("Placed by Ann Inspector", timeout=WAIT_MS)

    await click_pixel(spectator, 0, 0)
    await expect(inspector).to_contain_text("Nobody has painted this pixel yet.")


async def test_a_placement_told_to_try_again_is_sent_again_under_the_same_op(site: Site):
    """The server answers `try_again` when another node kept winning the write race: nothing
    was placed. The page sends the same op once more; the server places it exactly once."""
    canvas = await site.a_canvas(cooldown_ms=60_000)
    player = await site.page(canvas)
    places: list[dict] = []
    told: list[dict] = []

    def intercept(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if isinstance(message, str) and json.loads(message).get("type") == "place":
                places.append(json.loads(message))
            server.send(message)

        def to_page(message: str | bytes) -> None:
            frame = json.loads(message) if isinstance(message, str) else {}
            if frame.get("type") == "ack" and not told:  # the first answer becomes try_again
                told.append(frame)
                message = json.dumps({"type": "error", "op": frame["op"], "error": "try_again",
                                      "detail": "another node kept writing first", "wait_ms": 100})
            socket.send(message)

        socket.on_message(to_server)
        server.on_message(to_page)

    await player.route_web_socket(re.compile(r".*/live\?.*"), intercept)
    token = site.google.id_token(sub=f"sub-{uuid4().hex}", name="Eve Retry")
    await player.evaluate("token => window.tessera.signInWithGoogle(token)", token)
    await playing(player)

    await click_pixel(player, 2, 3)
    await player.get_by_role("button", name=re.compile(r"^Colour 3,")).click()
    await player.get_by_role("button", name="Place").click()

    await has_pixel(player, 2, 3, 2)
    await expect(player.locator("#cooldown")).to_contain_text("Next pixel in 0:")
    assert len(places) == 2 and places[0]["op"] == places[1]["op"]
    canvas_now = (await site.http.get(f"/api/canvas/{canvas}")).json()
    assert canvas_now["version"] == told[0]["version"]  # placed once
