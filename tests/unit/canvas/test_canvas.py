import pytest

from domain.canvas import (
    Canvas,
    CanvasClosed,
    CooldownActive,
    InvalidCanvas,
    PixelOutOfBounds,
    UnknownColour,
)
from tests.factories import PALETTE, T0, a_canvas, at


def test_a_new_canvas_is_open_at_version_one():
    canvas = a_canvas()
    assert canvas.version == 1
    assert canvas.is_open


def test_each_placement_bumps_the_version_by_exactly_one():
    canvas = a_canvas(cooldown_ms=0)
    versions = [canvas.place(x=i, y=0, colour=1, user="ann", now=at(i)).version for i in range(5)]
    assert versions == [2, 3, 4, 5, 6]
    assert [type(e) for e in canvas.collect_events()][1:] == [Canvas.PixelPlaced] * 5


def test_a_placement_is_the_event_the_library_would_have_triggered():
    """`place` builds its event without `trigger_event`: the same event, the same state, and
    the aggregate replayed from the events equals the one that decided them."""
    canvas = a_canvas(cooldown_ms=0)
    created = canvas.collect_events()
    canvas.place(x=3, y=2, colour=1, user="ann", now=at(0), op="a")
    canvas.place(x=4, y=2, colour=2, user="bob", now=at(1))
    placed = canvas.collect_events()
    by_the_library = [
        Canvas.PixelPlaced(originator_id=canvas.id, originator_version=2, timestamp=at(0),
                           x=3, y=2, colour=1, user="ann", op="a"),
        Canvas.PixelPlaced(originator_id=canvas.id, originator_version=3, timestamp=at(1),
                           x=4, y=2, colour=2, user="bob", op=None),
    ]
    assert placed == by_the_library
    assert [list(e.__dict__) for e in placed] == [list(e.__dict__) for e in by_the_library]
    assert (canvas.version, canvas.modified_on) == (3, at(1))

    replayed = None
    for event in [*created, *by_the_library]:
        replayed = event.mutate(replayed)
    assert replayed == canvas


def test_second_pixel_within_cooldown_is_refused_with_the_wait():
    canvas = a_canvas(cooldown_ms=1000)
    canvas.place(x=0, y=0, colour=1, user="ann", now=at(0))
    with pytest.raises(CooldownActive) as refused:
        canvas.place(x=1, y=0, colour=1, user="ann", now=at(400))
    assert refused.value.wait_ms == 600
    assert canvas.version == 2


def test_cooldown_is_per_user_and_ends():
    canvas = a_canvas(cooldown_ms=1000)
    canvas.place(x=0, y=0, colour=1, user="ann", now=at(0))
    canvas.place(x=0, y=0, colour=2, user="bob", now=at(1))
    assert canvas.place(x=0, y=0, colour=3, user="ann", now=at(1000)).version == 4


def test_admins_have_no_cooldown():
    canvas = a_canvas(cooldown_ms=60_000)
    canvas.place(x=0, y=0, colour=1, user="root", now=at(0), is_admin=True)
    assert canvas.place(x=1, y=0, colour=1, user="root", now=at(1), is_admin=True).version == 3


def test_a_retried_op_gets_the_same_answer_and_no_second_event():
    canvas = a_canvas(cooldown_ms=1000)
    first = canvas.place(x=0, y=0, colour=1, user="ann", now=at(0), op="op-1")
    again = canvas.place(x=0, y=0, colour=1, user="ann", now=at(10), op="op-1")
    assert again.version == first.version and again.replayed
    assert canvas.version == 2


@pytest.mark.parametrize("x,y", [(-1, 0), (16, 0), (0, 8), (100, 100)])
def test_pixels_outside_the_board_are_refused(x, y):
    canvas = a_canvas(width=16, height=8)
    with pytest.raises(PixelOutOfBounds):
        canvas.place(x=x, y=y, colour=1, user="ann", now=at(0))
    assert canvas.version == 1


def test_a_colour_outside_the_palette_is_refused():
    with pytest.raises(UnknownColour):
        a_canvas().place(x=0, y=0, colour=len(PALETTE), user="ann", now=at(0))


def test_a_closed_canvas_refuses_placements_until_reopened():
    canvas = a_canvas(cooldown_ms=0)
    canvas.close(user="root", now=at(0))
    with pytest.raises(CanvasClosed):
        canvas.place(x=0, y=0, colour=1, user="ann", now=at(1))
    canvas.reopen(user="root", now=at(2))
    assert canvas.place(x=0, y=0, colour=1, user="ann", now=at(3)).version == 4


def test_a_fill_is_one_versioned_operation():
    canvas = a_canvas()
    assert canvas.fill(x=1, y=1, width=4, height=3, colour=2, user="root", now=at(0)).version == 2


def test_a_fill_must_stay_on_the_board():
    with pytest.raises(PixelOutOfBounds):
        a_canvas(width=16).fill(x=10, y=0, width=8, height=1, colour=1, user="root", now=at(0))


def test_clearing_starts_a_new_season_and_keeps_counting_versions():
    canvas = a_canvas(cooldown_ms=0)
    canvas.place(x=0, y=0, colour=1, user="ann", now=at(0))
    assert canvas.clear(user="root", now=at(1)).version == 3
    assert canvas.season == 2


@pytest.mark.parametrize(
    "width,height,palette",
    [(0, 8, PALETTE), (5000, 8, PALETTE), (8, 8, ["#fff"]), (8, 8, ["#ffffff"]), (8, 8, PALETTE * 9)],
)
def test_a_canvas_needs_a_sane_size_and_palette(width, height, palette):
    with pytest.raises(InvalidCanvas):
        Canvas.create(canvas_id=__import__("uuid").uuid4(), title="", width=width, height=height,
                      palette=palette, cooldown_ms=0, now=T0)
