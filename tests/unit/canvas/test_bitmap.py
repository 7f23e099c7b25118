from functools import cached_property
from uuid import uuid4

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.canvas.canvases import Canvases
from domain.canvas import Canvas
from projections.canvas.bitmap import (
    RESET,
    BitmapProjection,
    ChunkKind,
    apply_entries,
    board_at,
    decode_delta,
)
from projections.recorded import Recorded
from tests.factories import T0
from tests.support.fakes import IN_MEMORY
from tests.support.recorded import recorded_by

W, H = 12, 7


class EventLog:
    """A real canvas's events, as `Canvases` stored them (on the library's in-memory store).
    Painting a closed canvas reopens it first, as an admin would."""

    def __init__(self) -> None:
        self.app = Canvases(IN_MEMORY)
        self.canvas = Canvas.create(
            canvas_id=uuid4(), title="t", width=W, height=H, palette=["#000000"] * 32,
            cooldown_ms=0, now=T0,
        )
        self.app.save(self.canvas)

    @property
    def canvas_id(self):
        return self.canvas.id

    @cached_property
    def events(self) -> list[Recorded]:
        return recorded_by(self.app)

    def placed(self, x: int, y: int, colour: int) -> None:
        self._reopened()
        self.canvas.place(x=x, y=y, colour=colour, user="u", now=T0)
        self.app.save(self.canvas)

    def filled(self, x: int, y: int, width: int, height: int, colour: int) -> None:
        self._reopened()
        self.canvas.fill(x=x, y=y, width=width, height=height, colour=colour, user="root", now=T0)
        self.app.save(self.canvas)

    def cleared(self) -> None:
        self.canvas.clear(user="root", now=T0)
        self.app.save(self.canvas)

    def closed(self) -> None:
        self.canvas.close(user="root", now=T0)
        self.app.save(self.canvas)

    def _reopened(self) -> None:
        self.canvas.reopen(user="root", now=T0)


def expected_board(operations) -> np.ndarray:
    board = np.zeros((H, W), dtype=np.uint8)
    for op in operations:
        match op:
            case ("place", x, y, colour):
                board[y, x] = colour
            case ("fill", x, y, w, h, colour):
                board[y : y + h, x : x + w] = colour
            case ("clear",):
                board[:] = 0
            case ("close",):
                pass
    return board.ravel()


def record(operations) -> EventLog:
    log = EventLog()
    for op in operations:
        match op:
            case ("place", x, y, colour):
                log.placed(x, y, colour)
            case ("fill", x, y, w, h, colour):
                log.filled(x, y, w, h, colour)
            case ("clear",):
                log.cleared()
            case ("close",):
                log.closed()
    return log


placements = st.tuples(st.just("place"), st.integers(0, W - 1), st.integers(0, H - 1),
                       st.integers(0, 31))
fills = st.integers(0, W - 1).flatmap(
    lambda x: st.integers(0, H - 1).flatmap(
        lambda y: st.tuples(st.just("fill"), st.just(x), st.just(y), st.integers(1, W - x),
                            st.integers(1, H - y), st.integers(0, 31))
    )
)
operations = st.lists(
    st.one_of(placements, placements, placements, fills, st.just(("clear",)), st.just(("close",))),
    max_size=60,
)


@given(operations, st.lists(st.integers(1, 10), min_size=1, max_size=8))
@settings(max_examples=150, deadline=None)
def test_live_board_deltas_and_rebuilt_board_agree(ops, batch_sizes):
    log = record(ops)
    projection = BitmapProjection(snapshot_every=5)
    client = np.zeros(W * H, dtype=np.uint8)
    client_version = 0
    chunks = []
    position = 0
    sizes = iter(batch_sizes * 100)
    while position < len(log.events):
        step = next(sizes)
        for event in log.events[position : position + step]:
            projection.apply(event)
        position += step
        batch = projection.collect(now=0.0)
        chunks.extend(batch.chunks)
        for _, delta in batch.deltas:
            from_version, to_version, entries = decode_delta(delta)
            assert from_version == client_version  # deltas chain without gaps
            apply_entries(client, entries)
            client_version = to_version
    board = projection.boards[log.canvas_id]
    assert board.version == len(log.events) == client_version
    assert np.array_equal(board.pixels, expected_board(ops))
    assert np.array_equal(client, board.pixels)
    zero = np.zeros(W * H, dtype=np.uint8)
    assert np.array_equal(board_at(zero, 0, chunks, board.version), board.pixels)


@given(operations, operations, st.lists(st.integers(1, 40), min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_a_page_at_once_changes_what_one_event_at_a_time_changes(ops_a, ops_b, page_sizes):
    """Two canvases' events interleaved, so that runs of placements start and stop mid-page."""
    logs = [record(ops_a), record(ops_b)]
    events = [e for pair in zip(*(log.events for log in logs), strict=False) for e in pair]
    events += logs[0].events[len(logs[1].events):] + logs[1].events[len(logs[0].events):]
    one_by_one, paged = BitmapProjection(snapshot_every=5), BitmapProjection(snapshot_every=5)
    position = 0
    sizes = iter(page_sizes * 100)
    while position < len(events):
        page = events[position : position + next(sizes)]
        for event in page:
            one_by_one.apply(event)
        paged.apply_page(page)
        position += len(page)
        got, expected = paged.collect(now=0.0), one_by_one.collect(now=0.0)
        assert (got.chunks, got.metas, got.deltas) == (
            expected.chunks, expected.metas, expected.deltas
        )
        assert [s[:4] for s in got.snapshots] == [s[:4] for s in expected.snapshots]
    for log, ops in zip(logs, (ops_a, ops_b), strict=True):
        assert np.array_equal(paged.boards[log.canvas_id].pixels, expected_board(ops))


def test_placements_pack_into_four_bytes_each():
    log = EventLog()
    log.placed(3, 2, 17)
    projection = BitmapProjection()
    for event in log.events:
        projection.apply(event)
    (_, delta), = projection.collect().deltas
    assert decode_delta(delta)[0:2] == (0, 2)
    assert decode_delta(delta)[2].tolist() == [((2 * W + 3) << 5) | 17]


def test_a_clear_travels_as_the_reset_entry():
    log = EventLog()
    log.placed(1, 1, 5)
    log.cleared()
    projection = BitmapProjection()
    for event in log.events:
        projection.apply(event)
    batch = projection.collect()
    assert [c.kind for c in batch.chunks] == [ChunkKind.MARK, ChunkKind.PIXELS, ChunkKind.CLEAR]
    assert decode_delta(batch.deltas[0][1])[2].tolist()[-1] == RESET


def test_a_board_between_two_versions_cuts_a_run_of_placements():
    log = EventLog()
    for x in range(5):
        log.placed(x, 0, 9)
    projection = BitmapProjection()
    for event in log.events:
        projection.apply(event)
    chunks = projection.collect().chunks
    board = board_at(np.zeros(W * H, dtype=np.uint8), 0, chunks, 4)  # created + 3 placements
    assert board[:5].tolist() == [9, 9, 9, 0, 0]


def test_later_entries_win_on_the_same_pixel():
    board = np.zeros(4, dtype=np.uint8)
    apply_entries(board, np.array([(1 << 5) | 3, (1 << 5) | 7, (1 << 5) | 2], dtype="<u4"))
    assert board.tolist() == [0, 2, 0, 0]


def test_snapshots_fall_due_every_n_versions():
    log = EventLog()
    for x in range(9):
        log.placed(x, 0, 1)
    projection = BitmapProjection(snapshot_every=4, snapshot_seconds=3600)
    due = []
    for event in log.events:
        projection.apply(event)
        due += [version for _, version, *_ in projection.collect(now=0.0).snapshots]
    assert due == [4, 8]


def the_row_after(log: EventLog):
    projection = BitmapProjection()
    for event in log.events:
        projection.apply(event)
    (meta,) = projection.collect().metas
    return meta


def test_a_new_canvas_row_is_open_in_its_first_season_at_version_one():
    log = EventLog()
    meta = the_row_after(log)
    assert (meta.canvas_id, meta.width, meta.height, meta.is_open, meta.season, meta.version) == (
        log.canvas_id, W, H, True, 1, 1
    )


def test_a_closed_canvas_row_is_no_longer_open():
    log = EventLog()
    log.closed()
    assert the_row_after(log).is_open is False


def test_a_reopened_canvas_row_is_open_again():
    log = EventLog()
    log.closed()
    log.placed(0, 0, 1)  # reopens first
    assert the_row_after(log).is_open is True


def test_a_cleared_canvas_row_starts_the_next_season():
    log = EventLog()
    log.cleared()
    meta = the_row_after(log)
    assert (meta.season, meta.version) == (2, 2)
