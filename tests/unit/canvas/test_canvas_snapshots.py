"""The window of a player's op ids is aggregate state: it survives snapshots, and a snapshot
taken before it existed still loads."""

from datetime import timedelta
from uuid import uuid4

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic

from commands.actor import Actor
from commands.canvas.canvases import Canvases
from commands.canvas.wire import CreateCanvas, PlacePixel
from domain.canvas import Canvas
from tests.factories import PALETTE, T0
from tests.support.fakes import IN_MEMORY

ANN = Actor("ann")


def canvases(snapshot_every: int = 0) -> Canvases:
    return Canvases(IN_MEMORY, linger_s=0.0, snapshot_every=snapshot_every)


def a_new_canvas(app: Canvases) -> Canvas:
    return app.create_canvas(CreateCanvas(width=16, height=8, palette=PALETTE, cooldown_ms=0))


async def test_a_resend_after_the_writer_restarts_from_a_snapshot_is_replayed():
    app = canvases(snapshot_every=2)
    canvas = a_new_canvas(app)
    try:
        first = await app.execute(canvas.id, ANN, PlacePixel(x=1, y=1, colour=1, op="a1"))
        await app.execute(canvas.id, ANN, PlacePixel(x=2, y=1, colour=1, op="a2"))
        await app.execute(canvas.id, ANN, PlacePixel(x=3, y=1, colour=1, op="a3"))
        assert app.snapshots is not None and app.snapshots.get(canvas.id)
        app.stop_writers()  # the node goes; the next writer loads the snapshot
        again = await app.execute(canvas.id, ANN, PlacePixel(x=1, y=1, colour=1, op="a1"))
    finally:
        app.stop_writers()
    assert (again.version, again.replayed) == (first.version, True)
    assert app.get_canvas(canvas.id).version == 4


def test_the_op_window_is_restored_from_a_stored_snapshot():
    app = canvases()
    canvas = a_new_canvas(app)
    for n in range(3):
        canvas.place(x=n, y=0, colour=1, user="ann", now=T0, op=f"a{n}")
    app.save(canvas)
    app.take_snapshot(canvas.id)
    restored = app.get_canvas(canvas.id)
    assert restored.place(x=0, y=0, colour=1, user="ann", now=T0, op="a0") == (2, True)


def test_a_snapshot_taken_before_the_op_window_still_loads():
    app = canvases()
    canvas = a_new_canvas(app)
    canvas.place(x=4, y=2, colour=1, user="ann", now=T0, op="old-op")
    app.save(canvas)
    # The state as the code before the op window stored it: no class_version, no window.
    old_state = {
        "_created_on": T0,
        "_modified_on": T0,
        "title": "",
        "width": 16,
        "height": 8,
        "palette": PALETTE,
        "cooldown_ms": 0,
        "is_open": True,
        "season": 1,
        "last_placed": {"ann": [int(T0.timestamp() * 1000), "old-op", 2]},
    }
    assert app.snapshots is not None
    app.snapshots.put([Snapshot(originator_id=canvas.id, originator_version=2,
                                timestamp=T0 + timedelta(seconds=1), topic=get_topic(Canvas),
                                state=old_state)])
    restored = app.get_canvas(canvas.id)
    assert restored.place(x=4, y=2, colour=1, user="ann", now=T0, op="old-op") == (2, True)
    assert restored.place(x=5, y=2, colour=1, user="ann", now=T0, op="new-op") == (3, False)
    assert restored.place(x=4, y=2, colour=1, user="ann", now=T0, op="old-op") == (2, True)


def test_placements_stored_before_the_op_window_replay_into_it():
    app = canvases()
    canvas_id = uuid4()
    canvas = Canvas.create(canvas_id=canvas_id, title="", width=16, height=8, palette=PALETTE,
                           cooldown_ms=0, now=T0)
    canvas.place(x=1, y=1, colour=1, user="ann", now=T0, op="a1")
    canvas.place(x=2, y=1, colour=1, user="ann", now=T0, op="a2")
    app.save(canvas)
    restored = app.get_canvas(canvas_id)
    assert restored.place(x=1, y=1, colour=1, user="ann", now=T0, op="a1") == (2, True)
