import asyncio

import numpy as np
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.app import Node
from commands.actor import Actor
from commands.canvas.wire import ClearCanvas, CreateCanvas, FillRectangle, PlacePixel
from projections.canvas.bitmap import apply_entries, decode_delta
from tests.integration.conftest import until

W, H = 24, 16
PALETTE = [f"#{i:02x}{i:02x}{i:02x}" for i in range(0, 256, 8)]  # 32 colours
ADMIN = Actor("root", is_admin=True)

commands = st.lists(
    st.one_of(
        st.builds(PlacePixel, x=st.integers(0, W - 1), y=st.integers(0, H - 1),
                  colour=st.integers(0, 31)),
        st.builds(PlacePixel, x=st.integers(0, W - 1), y=st.integers(0, H - 1),
                  colour=st.integers(0, 31)),
        st.builds(FillRectangle, x=st.integers(0, 3), y=st.integers(0, 3), width=st.integers(1, 8),
                  height=st.integers(1, 8), colour=st.integers(0, 31)),
        st.just(ClearCanvas()),
    ),
    min_size=1,
    max_size=80,
)


def expected(sequence) -> np.ndarray:
    board = np.zeros((H, W), dtype=np.uint8)
    for command in sequence:
        match command:
            case PlacePixel(x=x, y=y, colour=colour):
                board[y, x] = colour
            case FillRectangle(x=x, y=y, width=w, height=h, colour=colour):
                board[y : y + h, x : x + w] = colour
            case ClearCanvas():
                board[:] = 0
    return board.ravel()


async def test_the_live_board_equals_a_rebuild_from_the_event_store(parts: Node):
    runner = parts.runner("bitmap")
    boards = runner.model.projection.boards
    outcomes = []

    @hypothesis_settings(max_examples=12, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(commands)
    def check(sequence):
        outcomes.append(sequence)

    check()  # draw the sequences first: hypothesis runs synchronously
    canvases = []
    for sequence in outcomes:
        canvas = await asyncio.to_thread(
            parts["canvas"].canvases.create_canvas,
            CreateCanvas(width=W, height=H, palette=PALETTE, cooldown_ms=0),
        )
        for command in sequence:  # in order: the expected board depends on it
            await parts["canvas"].canvases.execute(canvas.id, ADMIN, command)
        canvases.append((canvas.id, 1 + len(sequence), expected(sequence)))

    for canvas_id, version, _ in canvases:
        await until(lambda c=canvas_id, v=version: _reached(boards, c, v))
    live = {canvas_id: boards[canvas_id].pixels.copy() for canvas_id, _, _ in canvases}
    for canvas_id, _, board in canvases:
        assert np.array_equal(live[canvas_id], board)

    reported: list[tuple[int, int]] = []
    await runner.rebuild(progress=lambda done, total: reported.append((done, total)))
    assert reported and reported[-1][0] == reported[-1][1] >= len(outcomes)  # the log's end
    assert [done for done, _ in reported] == sorted(done for done, _ in reported)
    rebuilt = runner.model.projection.boards
    for canvas_id, version, _ in canvases:
        assert rebuilt[canvas_id].version == version
        assert rebuilt[canvas_id].pixels.tobytes() == live[canvas_id].tobytes()


async def _reached(boards, canvas_id, version) -> bool:
    board = boards.get(canvas_id)
    return board is not None and board.committed_version >= version


async def test_deltas_are_published_on_nats_and_chain_up_to_the_board(parts: Node):
    canvas = await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas, CreateCanvas(width=W, height=H, palette=PALETTE)
    )
    received: list[bytes] = []
    async def receive(message) -> None:
        received.append(message.data)

    subscription = await parts.nc.subscribe(parts.settings.delta_subject(str(canvas.id)), cb=receive)
    for i in range(30):
        await parts["canvas"].canvases.execute(canvas.id, ADMIN, PlacePixel(x=i % W, y=1, colour=5))
    await until(lambda: _delta_reaches(received, 31))
    await subscription.unsubscribe()
    board = np.zeros(W * H, dtype=np.uint8)
    version = 0
    for message in received:
        start, end, entries = decode_delta(message)
        assert start == version
        apply_entries(board, entries)
        version = end
    assert board.reshape(H, W)[1].tolist() == [5] * W


async def _delta_reaches(received: list[bytes], version: int) -> bool:
    return bool(received) and decode_delta(received[-1])[1] >= version


async def test_snapshots_and_deltas_over_http_rebuild_the_board(parts: Node, client):
    canvas = await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas, CreateCanvas(width=W, height=H, palette=PALETTE)
    )
    for i in range(10):
        await parts["canvas"].canvases.execute(canvas.id, ADMIN, PlacePixel(x=i, y=2, colour=7))
    await until(lambda: _version_is(client, canvas.id, 11))
    latest = await client.get(f"/api/canvas/{canvas.id}/snapshot/latest",
                              follow_redirects=False)
    assert latest.status_code == 307 and latest.headers["etag"] == '"11"'
    unchanged = await client.get(f"/api/canvas/{canvas.id}/snapshot/latest",
                                 headers={"if-none-match": '"11"'})
    assert unchanged.status_code == 304
    at_five = await client.get(f"/api/canvas/{canvas.id}/snapshot/5",
                               headers={"accept-encoding": "gzip"})
    assert at_five.headers["content-encoding"] == "gzip"
    assert "immutable" in at_five.headers["cache-control"]
    board = np.frombuffer(at_five.content, dtype=np.uint8).copy()
    assert board.reshape(H, W)[2].tolist()[:5] == [7, 7, 7, 7, 0]
    deltas = await client.get(f"/api/canvas/{canvas.id}/deltas", params={"since": 5})
    start, end, entries = decode_delta(deltas.content)
    assert (start, end, len(entries)) == (5, 11, 6)
    apply_entries(board, entries)
    latest_board = await client.get(f"/api/canvas/{canvas.id}/snapshot/11")
    assert board.tobytes() == latest_board.content
    png = await client.get(f"/api/canvas/{canvas.id}/snapshot/11/png")
    assert png.headers["content-type"] == "image/png"


async def _version_is(client, canvas_id, version) -> bool:
    response = await client.get(f"/api/canvas/{canvas_id}")
    return response.status_code == 200 and response.json()["version"] >= version
