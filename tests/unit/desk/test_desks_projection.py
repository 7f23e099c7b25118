"""The desks projection, fed what the real `Desks` stored (through its own mapper) of a real desk's
events."""

from uuid import uuid4

from commands.desk.desks import Desks
from domain import lww
from domain.desk import Desk, epoch_ms
from projections.desk.desks import DeskBatch, DeskRow, DesksProjection, fold
from tests.factories import T0, at
from tests.support.fakes import IN_MEMORY
from tests.support.recorded import recorded_by

CREATOR = "c" * 64


def a_desk() -> Desk:
    return Desk.create(
        desk_id=uuid4(), name="retro", creator_token_hash=CREATOR, ttl_ms=3_600_000, now=T0
    )


def an_op(desk: Desk, seq: int, *, create: bool = False, **changes) -> None:
    desk.apply_op(
        client_id="ann", client_seq=seq, sticker_id="s1", create=create, changes=changes,
        stamp=(epoch_ms(T0) + seq, 0, "ann"), now=at(seq),
    )


def batch_after(desk: Desk) -> DeskBatch:
    app = Desks(IN_MEMORY)
    app.save(desk)
    projection = DesksProjection()
    for event in recorded_by(app):
        projection.apply(event)
    return projection.collect()


def test_a_new_desk_is_a_row_with_its_name():
    desk = a_desk()
    assert batch_after(desk).created == [DeskRow(desk.id, "retro", 0, T0)]


def test_a_sticker_edit_folds_over_its_creation():
    desk = a_desk()
    an_op(desk, 1, create=True, text="hi", x=1.0)
    an_op(desk, 2, text="hello")
    batch = batch_after(desk)
    boards: dict = {}
    dirty, heads = fold(batch.changes, boards)
    assert dirty == {(desk.id, "s1")}
    assert heads == {desk.id: (2, at(2))}
    folded = lww.values(boards[desk.id]["s1"])
    assert folded["text"] == "hello" and folded["x"] == 1.0
    assert folded == lww.values(desk.stickers["s1"])  # what the aggregate holds


def test_a_finished_session_is_counted_for_its_desk():
    desk = a_desk()
    desk.finish_session(creator_token_hash=CREATOR, now=at(1))
    assert batch_after(desk).sessions == [desk.id]


def test_a_closed_desk_is_listed_as_closed():
    desk = a_desk()
    desk.close(now=at(1))
    assert batch_after(desk).closed == [desk.id]
