"""The canvas over HTTP without services: the real `Canvases` on the library's in-memory store,
the bitmap and pixel-owner views in memory, written batch by batch by the real projections from
what `Canvases` stored; presence over an in-memory KV bucket."""

import gc
import tracemalloc
from types import SimpleNamespace
from uuid import UUID, uuid4

import numpy as np
import pytest
import pytest_asyncio

from api.canvas.parts import CanvasParts
from api.canvas.placing import fast_placement
from api.canvas.reads import CanvasReads
from api.canvas.telegram_bot import TelegramBot
from commands.canvas.canvases import Canvases
from commands.canvas.wire import CreateCanvas
from domain.canvas import Canvas
from infra.botapi import BotApi
from infra.canvas.presence import Presence
from infra.live.fanout import Fanout
from projections.canvas.bitmap import BitmapProjection, decode_delta, pack
from projections.canvas.pixel_owners import PixelOwnersProjection
from tests.factories import PALETTE, a_canvas, at
from tests.support.api import a_node, http_to, identity_parts, unit_settings
from tests.support.clock import ManualClock
from tests.support.fakes import (
    IN_MEMORY,
    FakeNats,
    InMemoryCanvasView,
    InMemoryKeyValue,
    InMemoryPixelOwners,
)
from tests.support.recorded import recorded_by

W, H = 4, 2


class Projections:
    """The projection runners' work, by hand: each `catch_up` is one batch of what `Canvases`
    stored since the last, through the real projections, into the in-memory views."""

    def __init__(self, canvases: Canvases, boards: InMemoryCanvasView, owners: InMemoryPixelOwners):
        self.canvases, self.boards, self.owners = canvases, boards, owners
        self.bitmap, self.pixel_owners = BitmapProjection(), PixelOwnersProjection()
        self.position = 0

    def catch_up(self) -> None:
        events = recorded_by(self.canvases, after=self.position)
        for event in events:
            self.bitmap.apply(event)
            self.pixel_owners.apply(event)
        self.position = events[-1].notification_id if events else self.position
        self.boards.write(self.bitmap.collect())
        self.owners.write(self.pixel_owners.collect())


def canvas_parts(settings, boards: InMemoryCanvasView, owners: InMemoryPixelOwners) -> CanvasParts:
    """The canvas context as `CanvasContext.start` builds it, over fakes."""
    canvases = Canvases(IN_MEMORY, linger_s=0.0)
    presence = Presence(
        InMemoryKeyValue(),
        cap=settings.canvas.player_cap,
        window_ms=int(settings.canvas.afk_after_s * 1000),
        clock=ManualClock(),
    )
    return CanvasParts(
        settings=settings,
        canvases=canvases,
        reads=CanvasReads(boards, owners, latest_ttl=settings.canvas.latest_cache_seconds),
        fanout=Fanout(FakeNats(), settings.delta_subject, capacity=settings.live_queue_frames),
        presence=presence,
        telegram=TelegramBot(
            api=BotApi(token=""), canvases=canvases, view=boards, admin_chats=[], players=presence
        ),
    )


class Site:
    """A node serving the canvas (and identity, for its gate) over in-memory parts."""

    def __init__(self, **settings_overrides) -> None:
        self.settings = unit_settings(**settings_overrides)
        self.boards, self.owners = InMemoryCanvasView(), InMemoryPixelOwners()
        self.canvas = canvas_parts(self.settings, self.boards, self.owners)
        self.projections = Projections(self.canvas.canvases, self.boards, self.owners)
        self.node = a_node(identity=identity_parts(self.settings), canvas=self.canvas)

    def http(self):
        return http_to(self.settings, self.node)

    def save(self, canvas: Canvas) -> None:
        self.canvas.canvases.save(canvas)
        self.projections.catch_up()


@pytest_asyncio.fixture
async def site():
    site = Site(canvas={"player_cap": 1})
    await site.canvas.presence.start()
    yield site
    await site.canvas.presence.stop()
    site.canvas.canvases.stop_writers()
    await site.canvas.telegram.close()


def a_painted_canvas(site: Site, *placements: tuple[int, int, int]) -> Canvas:
    """A canvas saved and projected, then each placement saved and projected as its own batch:
    version 1 is the creation, version n + 1 the nth placement."""
    canvas = a_canvas(width=W, height=H, cooldown_ms=0)
    site.save(canvas)
    for n, (x, y, colour) in enumerate(placements, 1):
        canvas.place(x=x, y=y, colour=colour, user="ann", now=at(n))
        site.save(canvas)
    return canvas


# -- reads -------------------------------------------------------------------------------------


async def test_a_canvas_is_served_as_the_view_holds_it(site):
    canvas = a_painted_canvas(site, (1, 0, 2))
    async with site.http() as http:
        response = await http.get(f"/api/canvas/{canvas.id}")
    assert response.json() == {
        "id": str(canvas.id),
        "title": "test",
        "width": W,
        "height": H,
        "palette": PALETTE,
        "cooldown_ms": 0,
        "is_open": True,
        "season": 1,
        "version": 2,
    }


async def test_an_unknown_canvas_is_404_with_a_json_error(site):
    unknown = uuid4()
    async with site.http() as http:
        response = await http.get(f"/api/canvas/{unknown}")
    assert response.status_code == 404
    assert response.json() == {"error": "canvas_not_found", "detail": f"no canvas {unknown}"}


async def test_the_latest_snapshot_redirects_to_the_immutable_url_of_its_version(site):
    canvas = a_painted_canvas(site, (1, 0, 2), (2, 1, 3))
    async with site.http() as http:
        response = await http.get(f"/api/canvas/{canvas.id}/snapshot/latest")
    assert response.status_code == 307
    assert response.headers["location"] == f"/api/canvas/{canvas.id}/snapshot/3"
    assert response.headers["etag"] == '"3"'


async def test_the_latest_snapshot_is_304_for_the_version_the_client_holds(site):
    canvas = a_painted_canvas(site, (1, 0, 2), (2, 1, 3))
    async with site.http() as http:
        response = await http.get(
            f"/api/canvas/{canvas.id}/snapshot/latest", headers={"If-None-Match": '"3"'}
        )
    assert response.status_code == 304


async def test_a_snapshot_is_the_board_at_its_version_one_byte_a_pixel(site):
    canvas = a_painted_canvas(site, (1, 0, 2), (2, 1, 3))
    async with site.http() as http:
        response = await http.get(
            f"/api/canvas/{canvas.id}/snapshot/2", headers={"Accept-Encoding": "identity"}
        )
    expected = np.zeros(W * H, dtype=np.uint8)
    expected[1] = 2  # (1, 0); the placement at (2, 1) came after version 2
    assert response.content == expected.tobytes()
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_deltas_since_a_version_carry_the_placements_after_it(site):
    canvas = a_painted_canvas(site, (1, 0, 2), (2, 1, 3))
    async with site.http() as http:
        response = await http.get(f"/api/canvas/{canvas.id}/deltas", params={"since": 2})
    since, to, entries = decode_delta(response.content)
    assert (since, to, list(entries)) == (2, 3, [pack(1 * W + 2, 3)])


async def test_deltas_answer_from_a_cached_version_and_ask_afresh_only_past_it(site):
    """`/deltas` reads the canvas's version from the cache: after more placements the chunks
    say how far it got, and only a `since` beyond every chunk and the cached version is asked
    about afresh (the future, or exactly the version the canvas reached)."""
    canvas = a_painted_canvas(site, (1, 0, 2))
    async with site.http() as http:
        assert (await http.get(f"/api/canvas/{canvas.id}")).json()["version"] == 2
        canvas.place(x=2, y=1, colour=3, user="ann", now=at(5))
        site.save(canvas)
        canvas.place(x=3, y=1, colour=1, user="ann", now=at(6))
        site.save(canvas)  # version 4; the cache still says 2
        newer = await http.get(f"/api/canvas/{canvas.id}/deltas", params={"since": 3})
        reached = await http.get(f"/api/canvas/{canvas.id}/deltas", params={"since": 4})
        future = await http.get(f"/api/canvas/{canvas.id}/deltas", params={"since": 5})
    since, to, entries = decode_delta(newer.content)
    assert (since, to, list(entries)) == (3, 4, [pack(1 * W + 3, 1)])
    assert decode_delta(reached.content)[:2] == (4, 4)
    assert (future.status_code, future.json()["error"]) == (422, "version_in_future")


async def test_deltas_are_410_with_the_oldest_version_once_the_version_left_the_ring(site):
    canvas = a_painted_canvas(site, (1, 0, 2), (2, 1, 3), (3, 1, 1))
    site.boards.snapshot(canvas.id, ring=1)  # keeps the delta (3, 4] only
    async with site.http() as http:
        response = await http.get(f"/api/canvas/{canvas.id}/deltas", params={"since": 1})
    assert response.status_code == 410
    assert response.json()["error"] == "gone" and response.json()["oldest_version"] == 3


async def test_the_inspector_names_who_painted_a_pixel_last(site):
    canvas = a_painted_canvas(site, (1, 0, 2), (1, 0, 3))
    async with site.http() as http:
        response = await http.get(f"/api/canvas/{canvas.id}/pixels/1/0")
    assert response.json() == {
        "x": 1, "y": 0, "colour": 3, "user": "ann", "name": None,
        "placed_at": at(2).isoformat().replace("+00:00", "Z"), "version": 3,
    }


# -- placing -----------------------------------------------------------------------------------


def a_created_canvas(site: Site) -> str:
    spec = CreateCanvas(width=W, height=H, palette=PALETTE, cooldown_ms=0)
    return str(site.canvas.canvases.create_canvas(spec).id)


async def test_a_placement_is_answered_with_the_version_it_produced(site):
    canvas_id = a_created_canvas(site)
    async with site.http() as http:
        response = await http.post(
            f"/api/canvas/{canvas_id}/pixels",
            json={"x": 1, "y": 1, "colour": 2},
            headers={"X-Dev-User": "ann"},
        )
    assert response.json() == {"version": 2, "replayed": False}


async def test_a_coordinate_sent_as_a_string_is_refused_and_places_nothing(site):
    canvas_id = a_created_canvas(site)
    async with site.http() as http:
        response = await http.post(
            f"/api/canvas/{canvas_id}/pixels",
            json={"x": "1", "y": 1, "colour": 2},
            headers={"X-Dev-User": "ann"},
        )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    problems = response.json()["detail"]["problems"]
    assert problems == [{"message": "Expected `int`, got `str`", "key": "x", "source": "body"}]
    assert site.canvas.canvases.get_canvas(UUID(canvas_id)).version == 1


async def test_a_placement_sent_as_anything_but_json_is_415_and_places_nothing(site):
    canvas_id = a_created_canvas(site)
    body = b'{"x": 1, "y": 1, "colour": 2}'
    async with site.http() as http:
        answers = [
            await http.post(
                f"/api/canvas/{canvas_id}/pixels", content=body,
                headers={"X-Dev-User": "ann", **content_type},
            )
            for content_type in ({"Content-Type": "text/plain"}, {})
        ]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [
        (415, "unsupported_media_type"), (415, "unsupported_media_type")
    ]
    assert site.canvas.canvases.get_canvas(UUID(canvas_id)).version == 1


async def test_a_placement_sent_as_json_with_a_charset_is_taken(site):
    canvas_id = a_created_canvas(site)
    async with site.http() as http:
        response = await http.post(
            f"/api/canvas/{canvas_id}/pixels",
            content=b'{"x": 1, "y": 1, "colour": 2}',
            headers={"X-Dev-User": "ann", "Content-Type": "application/json; charset=utf-8"},
        )
    assert response.json() == {"version": 2, "replayed": False}


async def test_a_resent_placement_gets_its_first_answer_after_a_later_one(site):
    canvas_id = a_created_canvas(site)
    url, ann = f"/api/canvas/{canvas_id}/pixels", {"X-Dev-User": "ann"}
    async with site.http() as http:
        await http.post(url, json={"x": 0, "y": 0, "colour": 1, "op": "a1"}, headers=ann)
        await http.post(url, json={"x": 1, "y": 0, "colour": 1, "op": "a2"}, headers=ann)
        again = await http.post(url, json={"x": 0, "y": 0, "colour": 1, "op": "a1"}, headers=ann)
    assert again.json() == {"version": 2, "replayed": True}


async def test_an_op_id_reused_for_another_pixel_is_409_op_reused(site):
    canvas_id = a_created_canvas(site)
    url, ann = f"/api/canvas/{canvas_id}/pixels", {"X-Dev-User": "ann"}
    async with site.http() as http:
        await http.post(url, json={"x": 0, "y": 0, "colour": 1, "op": "a1"}, headers=ann)
        reused = await http.post(url, json={"x": 3, "y": 1, "colour": 2, "op": "a1"}, headers=ann)
    assert (reused.status_code, reused.json()["error"]) == (409, "op_reused")


async def test_placing_without_signing_in_is_401(site):
    canvas_id = a_created_canvas(site)
    async with site.http() as http:
        response = await http.post(
            f"/api/canvas/{canvas_id}/pixels", json={"x": 1, "y": 1, "colour": 2}
        )
    assert (response.status_code, response.json()["error"]) == (401, "unauthenticated")


async def test_a_player_beyond_the_cap_is_told_their_place_in_the_queue(site):
    canvas_id = a_created_canvas(site)
    url, pixel = f"/api/canvas/{canvas_id}/pixels", {"x": 0, "y": 0, "colour": 1}
    async with site.http() as http:
        await http.post(url, json=pixel, headers={"X-Dev-User": "ann"})
        response = await http.post(url, json=pixel, headers={"X-Dev-User": "bob"})
    assert response.status_code == 409
    assert (response.json()["error"], response.json()["position"]) == ("not_playing", 1)


# -- the placement's fast path (api/canvas/placing.py) ------------------------------------------


async def test_a_placement_the_fast_path_serves_is_answered_as_the_handler_answers_one(site):
    canvas_id = a_created_canvas(site)
    url, ann = f"/api/canvas/{canvas_id}/pixels", {"X-Dev-User": "ann"}
    async with site.http() as http:
        fast = await http.post(url, json={"x": 1, "y": 1, "colour": 2}, headers=ann)
        # `2.0` is not strictly an integer: the fast path hands the request on to the handler
        handled = await http.post(
            url, content=b'{"x": 2.0, "y": 1, "colour": 2}',
            headers={**ann, "Content-Type": "application/json"},
        )
    assert (fast.status_code, fast.json()) == (200, {"version": 2, "replayed": False})
    assert (handled.status_code, handled.json()) == (200, {"version": 3, "replayed": False})
    assert fast.headers == handled.headers


PIXEL = b'{"x": 1, "y": 1, "colour": 2}'
JSON_TYPE = (b"content-type", b"application/json")


@pytest.mark.parametrize(
    ("headers", "chunks"),
    [
        pytest.param([(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(PIXEL))],
                     [PIXEL], id="another content type"),
        pytest.param([JSON_TYPE], [PIXEL[:10], PIXEL[10:]], id="no length, two chunks"),
        pytest.param([JSON_TYPE, (b"content-length", b"4096")], [PIXEL], id="over the limit"),
        pytest.param([JSON_TYPE, (b"content-length", b"10")], [PIXEL], id="longer than said"),
        pytest.param([JSON_TYPE, (b"content-length", b"%d" % (len(PIXEL) + 5))], [PIXEL],
                     id="shorter than said"),
        pytest.param([JSON_TYPE, (b"content-length", b"%d" % len(PIXEL.replace(b"1", b'"1"', 1)))],
                     [PIXEL.replace(b"1", b'"1"', 1)], id="does not decode"),
    ],
)
async def test_a_request_the_fast_path_does_not_serve_reaches_the_handler_whole(headers, chunks):
    received: list[bytes] = []

    async def handler(scope, receive, send) -> None:
        while True:
            message = await receive()
            received.append(message.get("body", b""))
            if not message.get("more_body", False):
                return

    sent = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks)]

    async def receive():
        return sent.pop(0)

    scope = {"type": "http", "method": "POST", "headers": headers, "path_params": {},
             "litestar_app": SimpleNamespace(request_max_body_size=1024)}
    await fast_placement(handler)(scope, receive, None)
    assert b"".join(received) == b"".join(chunks)


# -- the Telegram webhook ----------------------------------------------------------------------


async def test_a_webhook_update_sent_as_anything_but_json_is_415():
    site = Site(telegram={"webhook_secret": "hook-secret"})
    async with site.http() as http:
        response = await http.post(
            "/api/telegram/webhook",
            content=b'{"update_id": 1}',
            headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret", "Content-Type": "text/plain"},
        )
    assert (response.status_code, response.json()["error"]) == (415, "unsupported_media_type")


# -- memory ------------------------------------------------------------------------------------


async def test_snapshot_bodies_kept_in_memory_are_bounded_in_bytes_not_by_their_number():
    """An anonymous client asks for five versions of a 4096×4096 board unencoded: 16 MB a body.
    The cache keeps what fits its 32 MB, not the last 64 bodies (1 GB)."""
    site = Site()
    canvas = a_canvas(width=4096, height=4096, cooldown_ms=0)
    site.save(canvas)
    for n in range(1, 5):
        canvas.place(x=n, y=0, colour=1, user="ann", now=at(n))
        site.save(canvas)
    board = 4096 * 4096
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        async with site.http() as http:
            for version in range(1, 6):
                response = await http.get(
                    f"/api/canvas/{canvas.id}/snapshot/{version}",
                    headers={"Accept-Encoding": "identity"},
                )
                assert len(response.content) == board
                del response
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        await site.canvas.telegram.close()
    assert held < 3 * board  # two bodies at most, not five


async def test_a_canvas_title_with_a_nul_is_a_422_naming_the_field(site):
    admin = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}
    body = {"width": W, "height": H, "palette": PALETTE, "title": "spring\u0000"}
    async with site.http() as http:
        response = await http.post("/api/canvas", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert (response.json()["error"], response.json()["field"]) == ("invalid_text", "title")
    assert recorded_by(site.canvas.canvases) == []
