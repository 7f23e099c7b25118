"""Writers while the database is away (issue 15, 3): the store's recorders sit behind a fake
database and a real `Outage`, as `infra.spine.eventstore.GuardedDatastore` puts PostgreSQL's.
The first call that finds the database away waits (a pool waiting for a connection) while
commands queue behind it; then every queued and every new command is told to try again without
the store being tried, none is applied, and once the probe finds the database back the same
commands go through, each once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from commands.canvas.canvases import Canvases
from commands.canvas.wire import CreateCanvas
from commands.desk.desks import Desks
from commands.writer_thread import StoreUnavailable
from infra.spine.outage import Outage
from tests.factories import PALETTE
from tests.unit.test_shared_writer import Clock, an_op, stored_seqs
from tests.unit.test_shared_writer import a_writer as a_desk_writer
from tests.unit.test_shared_writer import an_app as a_desks_app
from tests.unit.test_shared_writer import desks as some_desks
from tests.unit.test_writer import a_writer, an_app, place, stored_versions


class Database:
    """Up or down. Down, a call fails as a dropped connection does; the first one only once the
    test lets it (`release`), as a pool waits for a connection before it gives up."""

    def __init__(self) -> None:
        self.down = False
        self.calls_while_down = 0
        self.waiting = threading.Event()
        self.release = threading.Event()

    def serve(self) -> None:
        if not self.down:
            return
        self.calls_while_down += 1
        if self.calls_while_down == 1:
            self.waiting.set()
            self.release.wait(10)
        try:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        except psycopg.OperationalError as error:  # as the library raises its own
            raise OperationalError(str(error)) from error

    def probe(self) -> None:
        if self.down:
            raise psycopg.OperationalError("connection refused")


class GatedRecorder:
    """A recorder reached through `database`, refused at once while `outage` is on."""

    def __init__(self, inner: Any, database: Database, outage: Outage) -> None:
        self._inner, self._database, self._outage = inner, database, outage

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name not in ("insert_events", "select_events"):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self._outage.check()
            try:
                self._database.serve()
            except OperationalError as error:
                self._outage.failed(error)
                raise
            return method(*args, **kwargs)

        return call


def behind(app: Any, database: Database) -> Outage:
    outage = Outage(app.name, database.probe, first_delay_s=0.01, max_delay_s=0.05)
    for store in (app.events, app.snapshots):
        store.recorder = GatedRecorder(store.recorder, database, outage)
    return outage


def until_back(outage: Outage) -> None:
    deadline = time.monotonic() + 10
    while outage.away:
        assert time.monotonic() < deadline, "the probe never found the database back"
        time.sleep(0.005)


def all_refused(futures: list[Any]) -> bool:
    for future in futures:
        with pytest.raises(StoreUnavailable):
            future.result(10)
    return True


def outage_under(submit: Callable[[int], Any], database: Database, queued: int) -> list[Any]:
    """The database goes down; the first command's call waits while `queued` more queue behind
    it, then fails; `queued` more come while it stays down. Every future, in order."""
    database.down = True
    futures = [submit(0)]
    assert database.waiting.wait(10)
    futures += [submit(n) for n in range(1, queued + 1)]
    database.release.set()
    assert all_refused(futures)
    later = [submit(n) for n in range(queued + 1, 2 * queued + 1)]
    assert all_refused(later)
    return futures + later


def test_a_canvas_writer_tells_every_queued_and_new_command_to_try_again_and_applies_none():
    app: Canvases = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    database = Database()
    outage = behind(app, database)
    writer = a_writer(app, canvas.id)
    for n in range(3):
        writer.submit_threadsafe(place(f"warm{n}", x=n, op=f"w{n}")).result(5)

    def submit(n: int) -> Any:
        return writer.submit_threadsafe(place(f"u{n % 7}", x=n % 64, op=f"o{n}"))

    outage_under(submit, database, queued=30)
    assert database.calls_while_down == 1  # the others were refused without trying
    database.down = False
    until_back(outage)
    assert stored_versions(app, canvas.id) == [1, 2, 3, 4]
    versions = [submit(n).result(5) for n in range(61)]
    writer.stop()
    assert not any(placement.replayed for placement in versions)
    assert stored_versions(app, canvas.id) == list(range(1, 5 + 61))


def test_the_desks_writer_tells_every_queued_and_new_op_to_try_again_and_applies_none():
    clock = Clock()
    app: Desks = a_desks_app(clock)
    ids: list[UUID] = some_desks(app, 12)
    database = Database()
    outage = behind(app, database)
    writer = a_desk_writer(app)
    for desk_id in ids:
        writer.submit_threadsafe(desk_id, an_op(1)).result(5)

    def submit(n: int) -> Any:  # op 2 of each desk, then the same ops again
        return writer.submit_threadsafe(ids[n % len(ids)], an_op(2))

    outage_under(submit, database, queued=len(ids) - 1)
    assert database.calls_while_down == 1
    database.down = False
    until_back(outage)
    assert all(stored_seqs(app, desk_id) == [1] for desk_id in ids)
    acks = [writer.submit_threadsafe(desk_id, an_op(2)).result(5) for desk_id in ids]
    writer.stop()
    assert [ack.desk_seq for ack in acks] == [2] * len(ids)
    assert all(stored_seqs(app, desk_id) == [1, 2] for desk_id in ids)


def test_a_canvas_writer_opened_while_the_store_is_away_tells_its_caller_to_try_again():
    app: Canvases = an_app()
    canvas = app.create_canvas(CreateCanvas(width=64, height=1, palette=PALETTE, cooldown_ms=0))
    database = Database()
    outage = behind(app, database)
    database.down = True
    database.release.set()
    for _ in range(2):  # the first finds it away, the second is refused without trying
        with pytest.raises(StoreUnavailable):
            app.writer(canvas.id)
    assert database.calls_while_down == 1
    database.down = False
    until_back(outage)
    placed = app.writer(canvas.id).submit_threadsafe(place("ann", op="a")).result(5)
    app.stop_writers()
    assert placed.version == 2
