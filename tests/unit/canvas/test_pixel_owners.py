"""The pixel owners projection, fed what `Canvases` stored of a real canvas's events."""

from commands.canvas.canvases import Canvases
from domain.canvas import Canvas
from projections.canvas.pixel_owners import Filled, Painted, PixelOwnersProjection
from tests.factories import a_canvas, at
from tests.support.fakes import IN_MEMORY
from tests.support.recorded import recorded_by


def changes_after(canvas: Canvas):
    app = Canvases(IN_MEMORY)
    app.save(canvas)
    projection = PixelOwnersProjection()
    for event in recorded_by(app):
        projection.apply(event)
    return projection.collect()


def test_a_placement_records_who_painted_the_pixel_when_and_at_which_version():
    canvas = a_canvas(cooldown_ms=0)
    canvas.place(x=3, y=2, colour=1, user="ann", now=at(5))
    cleared, painted, filled = changes_after(canvas)
    assert painted == [Painted(canvas.id, 3, 2, 1, "ann", 2, at(5))]
    assert (cleared, filled) == ({}, [])


def test_the_last_placement_on_a_pixel_wins():
    canvas = a_canvas(cooldown_ms=0)
    canvas.place(x=3, y=2, colour=1, user="ann", now=at(5))
    canvas.place(x=3, y=2, colour=2, user="bob", now=at(6))
    _, painted, _ = changes_after(canvas)
    assert [(p.user, p.colour, p.version) for p in painted] == [("bob", 2, 3)]


def test_a_fill_is_kept_as_one_rectangle():
    canvas = a_canvas()
    canvas.fill(x=1, y=1, width=3, height=2, colour=2, user="root", now=at(5))
    _, painted, filled = changes_after(canvas)
    assert filled == [Filled(canvas.id, 1, 1, 3, 2, 2, "root", 2, at(5))]
    assert painted == []


def test_a_clear_forgets_what_was_painted_before_it():
    canvas = a_canvas(cooldown_ms=0)
    canvas.place(x=3, y=2, colour=1, user="ann", now=at(5))
    canvas.fill(x=1, y=1, width=3, height=2, colour=2, user="root", now=at(6))
    canvas.clear(user="root", now=at(7))
    cleared, painted, filled = changes_after(canvas)
    assert (cleared, painted, filled) == ({canvas.id: 4}, [], [])
