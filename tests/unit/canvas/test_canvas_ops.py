"""A player's op ids: a resend of any op still in the player's window is answered with the
version it produced and places nothing; an op id reused for another pixel is refused."""

import pytest

from domain.canvas import OP_WINDOW, CanvasError
from tests.factories import a_canvas, at


def test_a_resend_of_an_earlier_op_is_answered_with_its_version_and_places_nothing():
    canvas = a_canvas(cooldown_ms=0)
    first = canvas.place(x=0, y=0, colour=1, user="ann", now=at(0), op="a1")
    canvas.place(x=1, y=0, colour=1, user="ann", now=at(1), op="a2")
    canvas.collect_events()
    again = canvas.place(x=0, y=0, colour=1, user="ann", now=at(2), op="a1")
    assert again == (first.version, True)
    assert canvas.version == 3
    assert canvas.collect_events() == []


def test_every_op_of_a_player_in_flight_is_recognised_when_all_are_resent():
    canvas = a_canvas(cooldown_ms=0)
    sent = [(f"op-{n}", n % 16, n % 8, n % 4) for n in range(8)]
    versions = [canvas.place(x=x, y=y, colour=c, user="ann", now=at(n), op=op).version
                for n, (op, x, y, c) in enumerate(sent)]
    resent = [canvas.place(x=x, y=y, colour=c, user="ann", now=at(100), op=op)
              for op, x, y, c in sent]
    assert resent == [(version, True) for version in versions]
    assert canvas.version == 9


def test_an_op_id_reused_for_another_pixel_is_refused_and_places_nothing():
    canvas = a_canvas(cooldown_ms=0)
    canvas.place(x=0, y=0, colour=1, user="ann", now=at(0), op="a1")
    canvas.place(x=1, y=0, colour=1, user="ann", now=at(1), op="a2")
    with pytest.raises(CanvasError) as refused:
        canvas.place(x=5, y=5, colour=1, user="ann", now=at(2), op="a1")
    assert refused.value.code == "op_reused"
    assert canvas.version == 3


def test_an_op_id_reused_with_another_colour_is_refused_even_as_the_latest():
    canvas = a_canvas(cooldown_ms=0)
    canvas.place(x=0, y=0, colour=1, user="ann", now=at(0), op="a1")
    with pytest.raises(CanvasError) as refused:
        canvas.place(x=0, y=0, colour=2, user="ann", now=at(1), op="a1")
    assert refused.value.code == "op_reused"


def test_a_resend_is_answered_even_once_the_canvas_closed_or_the_cooldown_runs():
    canvas = a_canvas(cooldown_ms=60_000)
    first = canvas.place(x=0, y=0, colour=1, user="ann", now=at(0), op="a1")
    canvas.close(user="root", now=at(1))
    assert canvas.place(x=0, y=0, colour=1, user="ann", now=at(2), op="a1") == (first.version, True)


def test_op_ids_are_per_player():
    canvas = a_canvas(cooldown_ms=0)
    canvas.place(x=0, y=0, colour=1, user="ann", now=at(0), op="same")
    placed = canvas.place(x=3, y=3, colour=2, user="bob", now=at(1), op="same")
    assert placed == (3, False)


def test_the_window_holds_a_players_last_op_window_ops():
    canvas = a_canvas(cooldown_ms=0)
    for n in range(OP_WINDOW + 1):
        canvas.place(x=n % 16, y=0, colour=1, user="ann", now=at(n), op=f"op-{n}")
    assert canvas.place(x=1, y=0, colour=1, user="ann", now=at(99), op="op-1").replayed
    assert not canvas.place(x=0, y=0, colour=1, user="ann", now=at(99), op="op-0").replayed


def test_an_op_taken_before_its_players_whole_window_was_placed_is_refused_as_stale():
    # The op waited in a node's queue (taken when version 1 was stored) while its resend and
    # fifteen more of the player's ops were placed through another node: the resend may have
    # left the window.
    canvas = a_canvas(cooldown_ms=0)
    for n in range(OP_WINDOW):
        canvas.place(x=n % 16, y=0, colour=1, user="ann", now=at(n), op=f"op-{n}")
    canvas.collect_events()
    with pytest.raises(CanvasError) as refused:
        canvas.place(x=3, y=3, colour=1, user="ann", now=at(99), op="late", seen=1)
    assert refused.value.code == "try_again"
    assert canvas.version == 1 + OP_WINDOW
    assert canvas.collect_events() == []


def test_an_op_taken_before_the_window_was_placed_is_still_answered_when_it_is_in_it():
    canvas = a_canvas(cooldown_ms=0)
    first = canvas.place(x=0, y=0, colour=1, user="ann", now=at(0), op="op-0")
    for n in range(1, OP_WINDOW):
        canvas.place(x=n % 16, y=0, colour=1, user="ann", now=at(n), op=f"op-{n}")
    late = canvas.place(x=0, y=0, colour=1, user="ann", now=at(99), op="op-0", seen=1)
    assert late == (first.version, True)


def test_an_op_is_placed_when_the_window_holds_every_op_since_it_was_taken():
    canvas = a_canvas(cooldown_ms=0)
    for n in range(OP_WINDOW):  # versions 2..17; taken once version 2 was stored
        canvas.place(x=n % 16, y=0, colour=1, user="ann", now=at(n), op=f"op-{n}")
    placed = canvas.place(x=3, y=3, colour=1, user="ann", now=at(99), op="new", seen=2)
    assert placed == (2 + OP_WINDOW, False)


def test_a_player_with_fewer_ops_than_the_window_is_never_refused_as_stale():
    canvas = a_canvas(cooldown_ms=0)
    for n in range(OP_WINDOW - 1):
        canvas.place(x=n % 16, y=0, colour=1, user="ann", now=at(n), op=f"op-{n}")
    assert not canvas.place(x=3, y=3, colour=1, user="ann", now=at(99), op="late",
                            seen=0).replayed
