"""The event store's insert: one statement a batch, ids in commit order, a conflict refuses the
whole batch."""

import pytest
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import RecordConflictError

from commands.codec import StoredEventMapper
from infra.spine.eventstore import application_env
from infra.spine.recorder import ColumnarApplicationRecorder


class Note(Aggregate):
    @event("Created")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Edited")
    def edit(self, text: str) -> None:
        self.text = text


class Notes(Application[object]):
    name = "recorder_notes"


async def test_a_batch_is_stored_whole_or_not_at_all(settings):
    notes = Notes(env=application_env(settings, create_table=True))
    try:
        assert isinstance(notes.recorder, ColumnarApplicationRecorder)
        assert isinstance(notes.mapper, StoredEventMapper)  # (the library's, for JSON states)
        first, second = Note("a"), Note("b")
        first.edit("a2")
        notes.save(first, second)
        ids = [n.id for n in notes.recorder.select_notifications(start=None, limit=10)]
        assert ids == sorted(ids) and len(ids) == 3

        stale = notes.repository.get(first.id)  # another writer's copy, at version 2
        first.edit("a3")
        notes.save(first)
        stale.edit("lost")
        third = Note("c")
        with pytest.raises(RecordConflictError):
            notes.save(stale, third)  # the conflict refuses the new note too
        assert notes.repository.get(first.id).text == "a3"
        assert len(notes.recorder.select_notifications(start=None, limit=10)) == 4
        with pytest.raises(AggregateNotFoundError):
            notes.repository.get(third.id)
    finally:
        notes.close()


async def test_the_ids_returned_are_the_rows_notification_ids(settings):
    notes = Notes(env=application_env(settings, create_table=True))
    try:
        batch = [Note(str(n)) for n in range(5)]
        stored = [notes.mapper.to_stored_event(e) for n in batch for e in n.collect_events()]
        ids = notes.recorder.insert_events(stored)
        rows = notes.recorder.select_notifications(start=None, limit=10)
        assert ids == [row.id for row in rows]
        assert [row.originator_id for row in rows] == [n.id for n in batch]
    finally:
        notes.close()


async def test_one_aggregates_consecutive_events_are_stored_as_a_run(settings):
    notes = Notes(env=application_env(settings, create_table=True))
    try:
        note = Note("a")
        for n in range(6):
            note.edit(f"a{n}")
        notes.save(note)  # versions 1..7: one run, sent as the id and version 1
        ids = notes.recorder.insert_events(
            [notes.mapper.to_stored_event(e) for e in _edits(note, 3)]  # versions 8..10
        )
        rows = notes.recorder.select_notifications(start=None, limit=20)
        assert ids == [row.id for row in rows][-3:]
        assert [(row.originator_id, row.originator_version) for row in rows] == [
            (note.id, version) for version in range(1, 11)
        ]
        assert notes.repository.get(note.id).text == "e2"
        stale = notes.repository.get(note.id, version=9)  # a run from a version already stored
        with pytest.raises(RecordConflictError):
            notes.recorder.insert_events(
                [notes.mapper.to_stored_event(e) for e in _edits(stale, 2)]
            )
        assert len(notes.recorder.select_notifications(start=None, limit=20)) == 10
    finally:
        notes.close()


def _edits(note: Note, count: int) -> list[object]:
    for n in range(count):
        note.edit(f"e{n}")
    return note.collect_events()
