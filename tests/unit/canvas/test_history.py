"""The history projection's keyframes, and boards painted from them, equal boards computed
independently by applying every event one by one."""

from __future__ import annotations

import msgspec
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.canvas.history import (
    PAINTING,
    HistoryProjection,
    event_time,
    paint,
    paint_columns,
    tally,
    tally_columns,
)
from projections.recorded import Columns, Recorded
from tests.unit.canvas.test_bitmap import H, W, operations, record


def naive_boards(events: list[Recorded]) -> dict[int, list[int]]:
    """The board after every version, one event and one pixel at a time."""
    board = [0] * (W * H)
    boards = {0: list(board)}
    for event in events:
        state = msgspec.msgpack.decode(event.state)
        match event.topic.rpartition(".")[2]:
            case "PixelPlaced":
                board[state["y"] * W + state["x"]] = state["colour"]
            case "RectangleFilled":
                for y in range(state["y"], state["y"] + state["height"]):
                    for x in range(state["x"], state["x"] + state["width"]):
                        board[y * W + x] = state["colour"]
            case "Cleared":
                board = [0] * (W * H)
        boards[event.originator_version] = list(board)
    return boards


@given(operations, st.sampled_from([1, 2, 3, 5, 8]), st.lists(st.integers(1, 12), min_size=1,
                                                              max_size=6))
@settings(max_examples=120, deadline=None)
def test_keyframes_and_boards_painted_from_them_equal_the_events_applied_one_by_one(
    ops, every, page_sizes
):
    log = record(ops)
    events = log.events
    projection = HistoryProjection(every=every)
    keyframes = []
    position, sizes = 0, iter(page_sizes * 100)
    while position < len(events):
        step = next(sizes)
        projection.apply_page(events[position : position + step])
        position += step
        batch = projection.collect()
        assert {c.canvas_id for c in batch.canvases} == {log.canvas_id}
        keyframes.extend(batch.keyframes)
    expected = naive_boards(events)
    last = len(events)
    assert [k.version for k in keyframes] == list(range(every, last + 1, every))
    for keyframe in keyframes:
        assert keyframe.pixels.tolist() == expected[keyframe.version]
        assert keyframe.at == event_time(events[keyframe.version - 1].state)
    bases = {0: np.zeros(W * H, dtype=np.uint8)} | {k.version: k.pixels for k in keyframes}
    for version in range(1, last + 1):
        base = max(v for v in bases if v <= version)
        board = bases[base].copy()
        paint(board, W, events[base:version])
        assert board.tolist() == expected[version], (version, base)
    assert projection.canvases[log.canvas_id].board().tolist() == expected[last]


def columns_of(events: list[Recorded]) -> Columns:
    """The events that paint as a page read as columns (what `HistoryView` reads)."""
    painting = [e for e in events if e.topic in PAINTING]
    return Columns(
        PAINTING,
        np.array([e.notification_id for e in painting], dtype=np.int64),
        np.array([e.originator_version for e in painting], dtype=np.int64),
        np.array([PAINTING.index(e.topic) for e in painting], dtype=np.intp),
        np.array([np.frombuffer(e.originator_id.bytes, "<u8") for e in painting],
                 dtype=np.uint64).reshape(-1, 2),
        np.cumsum([len(e.state) for e in painting], dtype=np.int64),
        b"".join(e.state for e in painting),
    )


@given(operations, st.data())
@settings(max_examples=120, deadline=None)
def test_boards_painted_from_columns_in_any_slices_equal_the_events_applied_one_by_one(
    ops, data
):
    log = record(ops)
    page = columns_of(log.events)
    expected = naive_boards(log.events)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(page)), max_size=5)))
    board = np.zeros(W * H, dtype=np.uint8)
    start = 0
    for stop in [*cuts, len(page)]:
        paint_columns(board, W, page, start, stop)
        start = max(start, stop)
        version = int(page.versions[start - 1]) if start else 0
        # versions of events that paint nothing (created, closed) leave the board as it was
        at = max((v for v in expected if v <= version), default=0)
        assert board.tolist() == expected[at], (start, version)


def test_a_replayed_page_changes_nothing():
    log = record([("place", 1, 1, 3), ("place", 2, 2, 4), ("clear",), ("place", 0, 0, 5)])
    projection = HistoryProjection(every=2)
    projection.apply_page(log.events)
    first = projection.collect()
    projection.apply_page(log.events)
    again = projection.collect()
    assert [k.version for k in first.keyframes] == [2, 4]
    assert again.keyframes == []
    assert projection.canvases[log.canvas_id].board().tolist() == naive_boards(log.events)[5]


def naive_maps(events: list[Recorded]) -> dict[int, tuple[list[int], list[int]]]:
    """Each version's paintings per pixel and last painting version, one pixel at a time."""
    heat, touched = [0] * (W * H), [0] * (W * H)
    maps = {0: (list(heat), list(touched))}
    for event in events:
        state = msgspec.msgpack.decode(event.state)
        match event.topic.rpartition(".")[2]:
            case "PixelPlaced":
                cells = [state["y"] * W + state["x"]]
            case "RectangleFilled":
                cells = [y * W + x for y in range(state["y"], state["y"] + state["height"])
                         for x in range(state["x"], state["x"] + state["width"])]
            case _:
                cells = []
        for cell in cells:
            heat[cell] += 1
            touched[cell] = event.originator_version
        maps[event.originator_version] = (list(heat), list(touched))
    return maps


@given(operations, st.sampled_from([1, 3, 7]), st.sampled_from([1, 2, 3]))
@settings(max_examples=80, deadline=None)
def test_keyframe_maps_and_maps_tallied_from_them_equal_the_events_counted(
    ops, every, maps_every
):
    log = record(ops)
    events = log.events
    projection = HistoryProjection(every=every, maps_every=maps_every)
    projection.apply_page(events)
    keyframes = projection.collect().keyframes
    expected = naive_maps(events)
    with_maps = [k for k in keyframes if k.maps is not None]
    assert [k.version for k in with_maps] == [
        k.version for k in keyframes if k.version % (every * maps_every) == 0]
    for keyframe in with_maps:
        heat, touched = expected[keyframe.version]
        assert keyframe.maps.heat.tolist() == heat
        assert keyframe.maps.touched.tolist() == touched
    bases = {0: (np.zeros(W * H, np.uint32), np.zeros(W * H, np.uint32))} | {
        k.version: (k.maps.heat, k.maps.touched) for k in with_maps}
    for version in range(1, len(events) + 1):
        base = max(v for v in bases if v <= version)
        heat, touched = (a.copy() for a in bases[base])
        tally(heat, touched, W, events[base:version])
        assert (heat.tolist(), touched.tolist()) == expected[version]
        heat, touched = (a.copy() for a in bases[base])
        tally_columns(heat, touched, W, columns_of(events[base:version]))
        assert (heat.tolist(), touched.tolist()) == expected[version]
