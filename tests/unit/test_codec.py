from datetime import UTC, datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import Mapper

from commands.codec import MsgspecTranscoder, StoredEventMapper, _holds_no_uuid
from domain.canvas import Canvas
from domain.desk import Desk
from tests.factories import a_canvas, at


def test_stored_state_decodes_to_what_was_encoded():
    transcoder = MsgspecTranscoder()
    state = {
        "timestamp": datetime(2026, 11, 23, 12, 0, 0, 123000, tzinfo=UTC),
        "id": uuid4(),
        "palette": ["#ffffff", "#000000"],
        "last_placed": {"ann": [1, None, 2]},
        "op": None,
        "nested": [uuid4(), {"inner": uuid4(), "n": 1}, "x"],
    }
    assert transcoder.decode(transcoder.encode(state)) == state


class _WithAnId(Aggregate.Event):
    other: UUID
    note: str | None


class _Versioned(Aggregate.Event):
    class_version = 2
    n: int


def test_the_stored_event_mapper_stores_what_the_librarys_mapper_stores():
    canvas = a_canvas(cooldown_ms=0)
    canvas.place(x=1, y=2, colour=3, user="ann", now=at(0), op="a")
    canvas.place(x=2, y=2, colour=1, user="bob", now=at(1))
    canvas.fill(x=0, y=0, width=2, height=2, colour=1, user="root", now=at(2))
    events = [
        *canvas.collect_events(),
        _WithAnId(originator_id=uuid4(), originator_version=1, timestamp=at(3),
                  other=uuid4(), note=None),
        _Versioned(originator_id=uuid4(), originator_version=1, timestamp=at(4), n=7),
        Snapshot.take(canvas),
    ]
    ours = StoredEventMapper(MsgspecTranscoder())
    the_librarys = Mapper[UUID](transcoder=MsgspecTranscoder())
    for event in events:
        stored = ours.to_stored_event(event)
        assert stored == the_librarys.to_stored_event(event)
        if not isinstance(event, Snapshot):  # (a snapshot's tuples come back lists, as ever)
            assert ours.to_domain_event(stored) == event  # a UUID field came back a UUID


def test_only_events_of_plain_fields_skip_the_walk_for_uuids():
    assert _holds_no_uuid(Canvas.PixelPlaced)
    assert not _holds_no_uuid(_WithAnId)
    assert not _holds_no_uuid(Canvas.Created)  # a palette list: walked
    assert not _holds_no_uuid(Snapshot)
    assert _holds_no_uuid(Desk.StickerChanged)  # says so: JSON values from the wire
