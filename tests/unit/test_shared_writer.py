import asyncio
import threading
from concurrent.futures import Future
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import RecordConflictError

from commands.desk.desks import DeskNotFound, Desks, decide
from commands.desk.wire import ApplyStickerOp, InitDesk, StickerFields
from commands.shared_writer import SharedWriter
from commands.writer_thread import ATTEMPTS, StoreUnavailable, WriterBusy
from domain.desk import Desk, DeskError, SequenceGap, epoch_ms
from tests.factories import T0
from tests.unit.test_writer import AwayRecorder, FlakyRecorder


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def an_app(clock: Clock) -> Desks:
    return Desks(clock=clock, ttl_s=3600, linger_s=0.001, snapshot_every=5)


def a_writer(app: Desks, name: str = "w") -> SharedWriter:
    writer = SharedWriter[Desk, ApplyStickerOp](
        name=name,
        app=app,
        load=app.get_desk,
        decide=decide,
        clock=app.clock,
        linger_s=0.005,
        snapshot_every=5,
        domain_errors=(DeskError,),
    )
    writer.start()
    return writer


def an_op(seq: int, client: str = "ann", sticker: str = "s1") -> ApplyStickerOp:
    return ApplyStickerOp(
        client_id=client,
        client_seq=seq,
        sticker=sticker,
        stamp=(epoch_ms(T0) + seq, 0, client),
        fields=StickerFields(x=float(seq)),
        create=seq == 1,
    )


def desks(app: Desks, n: int) -> list[UUID]:
    return [app.init_desk(InitDesk(name=f"d{i}", create_new=True)).desk.id for i in range(n)]


def stored_seqs(app: Desks, desk_id: UUID) -> list[int]:
    return [e.desk_seq for e in app.events.get(desk_id) if isinstance(e, Desk.StickerChanged)]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_many_desks_ops_are_saved_together_and_each_desk_counts_its_own(clock):
    app = an_app(clock)
    ids = desks(app, 10)
    writer = a_writer(app)
    futures = [writer.submit_threadsafe(d, an_op(seq)) for seq in range(1, 6) for d in ids]
    acks = [f.result(5) for f in futures]
    writer.stop()
    assert [ack.desk_seq for ack in acks] == [seq for seq in range(1, 6) for _ in ids]
    assert writer.saves < len(futures)  # batches of many desks, not a save per op
    assert all(stored_seqs(app, d) == [1, 2, 3, 4, 5] for d in ids)


def test_an_unknown_desk_fails_its_callers_alone(clock):
    app = an_app(clock)
    (known,) = desks(app, 1)
    writer = a_writer(app)
    good = writer.submit_threadsafe(known, an_op(1))
    lost = writer.submit_threadsafe(uuid4(), an_op(1))
    assert good.result(5).desk_seq == 1
    with pytest.raises(DeskNotFound):
        lost.result(5)
    writer.stop()


def test_a_desk_written_elsewhere_is_reloaded_and_the_other_desks_lose_nothing(clock):
    app = an_app(clock)
    ids = desks(app, 4)
    here, there = a_writer(app, "here"), a_writer(app, "there")
    for d in ids:  # both hold every desk in memory
        here.submit_threadsafe(d, an_op(1, "ann")).result(5)
    there.submit_threadsafe(ids[0], an_op(1, "bob")).result(5)  # `here` is now stale on ids[0]
    futures: list[Future] = [here.submit_threadsafe(d, an_op(2, "ann")) for d in ids]
    acks = [f.result(5) for f in futures]
    here.stop()
    there.stop()
    assert here.conflicts >= 1
    assert [ack.desk_seq for ack in acks] == [3, 2, 2, 2]
    assert stored_seqs(app, ids[0]) == [1, 2, 3]
    assert all(stored_seqs(app, d) == [1, 2] for d in ids[1:])


def test_a_batch_whose_save_failed_is_committed_once(clock):
    app = an_app(clock)
    ids = desks(app, 3)
    app.events.recorder = FlakyRecorder(app.events.recorder)  # type: ignore[assignment]
    writer = a_writer(app)
    futures = [writer.submit_threadsafe(d, an_op(seq)) for seq in (1, 2) for d in ids]
    assert [f.result(5).desk_seq for f in futures] == [1, 1, 1, 2, 2, 2]
    writer.stop()
    assert all(stored_seqs(app, d) == [1, 2] for d in ids)


def test_a_store_that_is_away_gets_every_desks_callers_told_to_try_again_after_one_more_try(
    clock,
):
    app = an_app(clock)
    ids = desks(app, 20)
    writer = a_writer(app)
    for d in ids:  # held in memory: the ops below are decided and saved in batches
        writer.submit_threadsafe(d, an_op(1)).result(5)
    app.events.recorder = away = AwayRecorder(app.events.recorder)  # type: ignore[assignment]
    before = writer.batches
    futures = [writer.submit_threadsafe(d, an_op(2)) for d in ids]
    for future in futures:
        with pytest.raises(StoreUnavailable):
            future.result(10)
    writer.stop()
    # Each batch: its save, then its first desk alone; not every desk, nor every attempt.
    assert away.tries == 2 * (writer.batches - before)
    app.events.recorder = away._inner  # type: ignore[assignment]
    assert all(stored_seqs(app, d) == [1] for d in ids)


def test_idle_desks_are_evicted_and_continue_from_the_store(clock):
    app = an_app(clock)
    first, second = desks(app, 2)
    writer = a_writer(app)
    writer.submit_threadsafe(first, an_op(1)).result(5)
    clock.now += timedelta(seconds=30)
    writer.submit_threadsafe(second, an_op(1)).result(5)
    assert writer.held() == 2
    due = writer.evict_idle(timedelta(seconds=60), clock.now + timedelta(seconds=30))
    assert writer.held() == 1 and due == clock.now + timedelta(seconds=60)
    assert writer.submit_threadsafe(first, an_op(2)).result(5).desk_seq == 2
    writer.stop()


def test_snapshots_are_taken_from_memory_and_loads_start_from_them(clock):
    app = an_app(clock)
    (desk,) = desks(app, 1)
    writer = a_writer(app)
    for seq in range(1, 13):
        writer.submit_threadsafe(desk, an_op(seq)).result(5)
    writer.stop()
    assert app.snapshots is not None
    assert [s.originator_version for s in app.snapshots.get(desk)] == [5, 10]
    assert app.get_desk(desk).desk_seq == 12


class RacingRecorder:
    """The real recorder, except that another writer always appended first."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.refused = 0

    def insert_events(self, stored_events, **kwargs):
        self.refused += 1
        raise RecordConflictError("another writer was first")

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_a_desk_that_keeps_losing_races_tells_its_callers_to_try_again(clock):
    app = an_app(clock)
    [desk] = desks(app, 1)
    app.events.recorder = racing = RacingRecorder(app.events.recorder)  # type: ignore[assignment]
    writer = a_writer(app)
    with pytest.raises(WriterBusy):
        writer.submit_threadsafe(desk, an_op(1)).result(10)
    writer.stop()
    assert racing.refused == 1 + ATTEMPTS  # the batch, then each attempt alone
    app.events.recorder = racing._inner  # type: ignore[assignment]
    assert stored_seqs(app, desk) == []  # nothing was saved: the same op may be sent again


def test_desks_are_loaded_off_the_writer_thread_and_their_ops_keep_their_order(clock):
    app = an_app(clock)
    ids = desks(app, 3)
    loads: list[tuple[UUID, str]] = []

    def load(desk_id: UUID) -> Desk:
        loads.append((desk_id, threading.current_thread().name))
        return app.get_desk(desk_id)

    writer = SharedWriter[Desk, ApplyStickerOp](
        name="w", app=app, load=load, decide=decide, clock=app.clock, domain_errors=(DeskError,)
    )
    writer.start()
    futures = [writer.submit_threadsafe(d, an_op(seq)) for d in ids for seq in range(1, 6)]
    nowhere = uuid4()
    unknown = writer.submit_threadsafe(nowhere, an_op(1))
    assert [f.result(5).desk_seq for f in futures] == [1, 2, 3, 4, 5] * 3
    with pytest.raises(DeskNotFound):
        unknown.result(5)
    writer.stop()
    assert all(stored_seqs(app, d) == [1, 2, 3, 4, 5] for d in ids)
    # Each known desk once, on a loader thread; the unknown one is tried again by the writer,
    # which answers its caller why not.
    assert sorted((d, name.startswith("load-w")) for d, name in loads) == sorted(
        [(d, True) for d in ids] + [(nowhere, True), (nowhere, False)]
    )


async def test_replies_are_called_on_the_loop_in_order_and_a_failing_one_costs_the_others_nothing(
    clock,
):
    app = an_app(clock)
    [desk] = desks(app, 1)
    writer = a_writer(app)
    loop = asyncio.get_running_loop()
    heard: list[tuple[bool, object]] = []
    done = loop.create_future()

    def reply(answer: object) -> None:
        heard.append((asyncio.get_running_loop() is loop, answer))
        if len(heard) == 1:
            raise RuntimeError("a caller's bug")
        if len(heard) == 4:
            done.set_result(None)

    for seq in (1, 2, 3, 5):  # 5 leaves a gap: refused, as an answer
        writer.submit_reply(desk, an_op(seq), reply)
    await asyncio.wait_for(done, 5)
    writer.stop()
    assert all(on_loop for on_loop, _ in heard)
    assert [answer.desk_seq for _, answer in heard[:3]] == [1, 2, 3]
    assert isinstance(heard[3][1], SequenceGap) and heard[3][1].expected == 4
