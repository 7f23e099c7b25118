import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.canvas.stream import Output
from infra.canvas.stream_frames import FrameRenderer, fit

PALETTE = ["#ffffff", "#000000", "#e50000", "#02be01"]


@given(st.integers(1, 300), st.integers(1, 300))
@settings(max_examples=60, deadline=None)
def test_the_board_area_keeps_its_proportions_and_fits_under_the_strip(w, h):
    area = fit(w, h, 1280, 720, 27)
    assert area.x >= 0 and area.y >= 27
    assert area.x + area.width <= 1280 and area.y + area.height <= 720
    scale = min(1280 / w, 693 / h)  # one scale for both sides: the proportions are kept
    assert (area.width, area.height) == (max(1, int(w * scale)), max(1, int(h * scale)))
    assert area.width >= 1279 or area.height >= 692  # and it fills one side


@given(st.integers(2, 90), st.integers(2, 60), st.randoms())
@settings(max_examples=40, deadline=None)
def test_a_rendered_frame_reads_back_as_the_board(w, h, rng):
    board = np.array([rng.randrange(4) for _ in range(w * h)], dtype=np.uint8)
    renderer = FrameRenderer(w, h, PALETTE, width=640, height=360)
    frame = renderer.render(board, "v1")
    assert frame.shape == (360, 640, 3)
    assert np.array_equal(renderer.expected_board(frame), board)


@given(st.integers(2, 90), st.integers(2, 60), st.randoms(), st.integers(1, 6))
@settings(max_examples=40, deadline=None)
def test_frames_rendered_from_the_changed_rows_equal_frames_of_the_whole_board(w, h, rng, steps):
    board = np.array([rng.randrange(4) for _ in range(w * h)], dtype=np.uint8)
    whole = FrameRenderer(w, h, PALETTE, width=640, height=360)
    by_rows = FrameRenderer(w, h, PALETTE, width=640, height=360)
    whole.render(board, "v0")
    by_rows.render_rows(np.arange(h), board.reshape(h, w).copy(), "v0")
    for step in range(1, steps + 1):
        before = board.copy()
        for _ in range(rng.randrange(1, 8)):
            board[rng.randrange(w * h)] = rng.randrange(4)
        rows = np.arange(h)[[rng.random() < 0.3 for _ in range(h)]]
        rows = np.union1d(rows, np.flatnonzero(  # every changed row, and some others
            (board.reshape(h, w) != before.reshape(h, w)).any(axis=1)))
        expected = whole.render(board, f"v{step}").copy()
        shown = by_rows.render_rows(rows, board.reshape(h, w)[rows], f"v{step}")
        assert np.array_equal(shown, expected)
        assert np.array_equal(by_rows.expected_board(shown), board)


def test_the_stream_key_comes_from_settings_and_is_masked():
    output = Output.parse("rtmp://a.rtmp.youtube.com/live2/", key="secret-key")
    assert output.target == "rtmp://a.rtmp.youtube.com/live2/secret-key"
    assert "secret" not in output.masked and output.format == "flv"
    inline = Output.parse("rtmp://host/app/inline-key")
    assert inline.target.endswith("/inline-key") and "inline" not in inline.masked
    with pytest.raises(ValueError):
        Output.parse("rtmp://host/app/")
    assert Output.parse("out.flv").format == "flv"
