import asyncio
from concurrent.futures import Future

import pytest
from eventsourcing.persistence import OperationalError

from commands.actor import Actor
from commands.canvas.canvases import Canvases, Order, decide
from commands.canvas.wire import CreateCanvas, PlacePixel
from commands.writer import AggregateWriter
from commands.writer_thread import StoreUnavailable
from domain.canvas import OP_WINDOW, CanvasError, CooldownActive, PixelOutOfBounds
from tests.factories import PALETTE


def an_app() -> Canvases:
    return Canvases(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, linger_s=0.001)


def a_writer(app: Canvases, canvas_id, name="w") -> AggregateWriter:
    writer = AggregateWriter(
        name=name,
        app=app,
        load=lambda: app.get_canvas(canvas_id),
        decide=decide,
        clock=app.clock,
        linger_s=0.001,
        max_batch=50,
        snapshot_every=7,
        domain_errors=(CanvasError,),
    )
    writer.start()
    return writer


def place(user: str, x: int = 0, op: str | None = None) -> Order:
    return Order(Actor(user), PlacePixel(x=x, y=0, colour=1, op=op))


def stored_versions(app: Canvases, canvas_id) -> list[int]:
    return [e.originator_version for e in app.events.get(canvas_id)]


def test_placements_are_acknowledged_with_their_committed_versions():
    app = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    writer = a_writer(app, canvas.id)
    futures = [writer.submit_threadsafe(place(f"u{i}", x=i)) for i in range(40)]
    versions = [f.result(5).version for f in futures]
    writer.stop()
    assert sorted(versions) == list(range(2, 42))
    assert stored_versions(app, canvas.id) == list(range(1, 42))


def test_a_refusal_goes_to_its_caller_alone():
    app = an_app()
    canvas = app.create_canvas(CreateCanvas(width=4, height=1, palette=PALETTE, cooldown_ms=60_000))
    writer = a_writer(app, canvas.id)
    good = writer.submit_threadsafe(place("ann", x=0))
    outside = writer.submit_threadsafe(place("bob", x=9))
    too_soon = writer.submit_threadsafe(place("ann", x=1))
    assert good.result(5).version == 2
    with pytest.raises(PixelOutOfBounds):
        outside.result(5)
    with pytest.raises(CooldownActive):
        too_soon.result(5)
    writer.stop()
    assert stored_versions(app, canvas.id) == [1, 2]


def test_a_second_writer_loses_reloads_and_loses_nothing():
    app = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    first, second = a_writer(app, canvas.id, "a"), a_writer(app, canvas.id, "b")
    # Each writer loads the canvas, then each appends: the second's state is now stale.
    futures: list[Future] = [second.submit_threadsafe(place("warm-b", op="wb"))]
    futures[0].result(5)
    futures.append(first.submit_threadsafe(place("warm-a", op="wa")))
    futures[1].result(5)
    for i in range(298):
        writer = first if i % 3 else second
        futures.append(writer.submit_threadsafe(place(f"u{i}", x=i % 64, op=f"op{i}")))
    versions = [f.result(10).version for f in futures]
    first.stop()
    second.stop()
    assert first.conflicts + second.conflicts > 0
    assert sorted(versions) == list(range(2, 302))  # each placement once, no gaps
    assert stored_versions(app, canvas.id) == list(range(1, 302))


class FlakyRecorder:
    """The real recorder, except that its first `insert_events` fails like a dropped connection."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.failures = 1

    def insert_events(self, stored_events, **kwargs):
        if self.failures:
            self.failures -= 1
            raise OperationalError("connection lost")
        return self._inner.insert_events(stored_events, **kwargs)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class AwayRecorder(FlakyRecorder):
    """The real recorder behind a database that does not answer: every insert fails."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.failures = 10**9
        self.tries = 0

    def insert_events(self, stored_events, **kwargs):
        self.tries += 1
        return super().insert_events(stored_events, **kwargs)


def test_a_store_that_is_away_gets_its_callers_told_to_try_again_after_one_more_try():
    app = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    app.events.recorder = away = AwayRecorder(app.events.recorder)
    writer = a_writer(app, canvas.id)
    with pytest.raises(StoreUnavailable):
        writer.submit_threadsafe(place("ann")).result(10)
    writer.stop()
    assert away.tries == 2  # the batch, then once decided again: not once per attempt
    assert stored_versions(app, canvas.id) == [1]  # nothing placed: the same op may go again


def test_a_batch_whose_save_failed_is_decided_again_and_committed_once():
    app = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    app.events.recorder = FlakyRecorder(app.events.recorder)
    writer = a_writer(app, canvas.id)
    futures = [writer.submit_threadsafe(place(f"u{i}", x=i, op=f"o{i}")) for i in range(20)]
    versions = sorted(f.result(10).version for f in futures)
    writer.stop()
    assert versions == list(range(2, 22))
    assert stored_versions(app, canvas.id) == list(range(1, 22))


def test_the_writer_snapshots_the_canvas_from_memory():
    app = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    writer = a_writer(app, canvas.id)
    for i in range(20):
        writer.submit_threadsafe(place(f"u{i}", x=i)).result(5)
    writer.stop()
    snapshots = list(app.snapshots.get(canvas.id))
    assert snapshots and all(s.originator_version % 7 == 0 for s in snapshots)
    reloaded = app.get_canvas(canvas.id)
    assert reloaded.version == 21 and len(reloaded.last_placed) == 20


async def test_event_loop_callers_get_their_answers_on_their_loop():
    app = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    answers = await asyncio.gather(
        *(app.execute(canvas.id, Actor(f"u{i}"), PlacePixel(x=i, y=0, colour=2)) for i in range(30))
    )
    app.stop_writers()
    assert sorted(a.version for a in answers) == list(range(2, 32))


def test_an_op_that_waited_behind_another_writer_while_its_resend_moved_on_is_not_placed_twice():
    # Two nodes' writers of one canvas: the first took an op and stalled (a stopping node, a
    # writer losing races); the player's resend went through the second, and sixteen more ops
    # after it. The first's copy, decided at last, finds the window moved on since it was taken.
    app = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    stalled, other = a_writer(app, canvas.id, "stalled"), a_writer(app, canvas.id, "other")
    stalled.submit_threadsafe(place("warm", op="w")).result(5)  # loaded before the others place
    seen = stalled.stored_version
    resend = other.submit_threadsafe(place("ann", x=1, op="late")).result(5)
    for n in range(OP_WINDOW):
        other.submit_threadsafe(place("ann", x=2 + n, op=f"after-{n}")).result(5)
    late = stalled.submit_threadsafe(
        Order(Actor("ann"), PlacePixel(x=1, y=0, colour=1, op="late"), seen)
    )
    with pytest.raises(CanvasError) as refused:
        late.result(5)
    stalled.stop()
    other.stop()
    assert refused.value.code == "try_again"
    placed = [e for e in app.events.get(canvas.id) if getattr(e, "op", None) == "late"]
    assert [e.originator_version for e in placed] == [resend.version]


def test_a_players_first_op_on_a_node_that_just_opened_the_canvas_is_not_taken_for_stale():
    # The player has a whole window of ops from before; this node's writer starts from the
    # canvas it read to open it, so it knows those versions stored.
    app = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    for n in range(OP_WINDOW):
        canvas.place(x=n, y=0, colour=1, user="ann", now=app.clock(), op=f"before-{n}")
    app.save(canvas)

    async def place_once() -> int:
        placed = await app.execute(canvas.id, Actor("ann"), PlacePixel(x=1, y=0, colour=2, op="now"))
        return placed.version

    try:
        assert asyncio.run(place_once()) == 2 + OP_WINDOW
    finally:
        app.stop_writers()
