from datetime import datetime
from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot

from domain.desk import (
    MAX_TEXT_BYTES,
    ClockSkew,
    Desk,
    DeskExpired,
    InvalidStamp,
    InvalidValue,
    NotCreator,
    SequenceGap,
    TextTooLong,
    UnknownField,
    UnknownSticker,
    epoch_ms,
)
from tests.factories import T0, at

T0_MS = epoch_ms(T0)
DAY_MS = 24 * 3600 * 1000


def a_desk(*, ttl_ms: int = 7 * DAY_MS) -> Desk:
    return Desk.create(
        desk_id=uuid4(), name="retro", creator_token_hash="h" * 64, ttl_ms=ttl_ms, now=T0
    )


class Author:
    """A client: numbers its ops and stamps them `ms` after T0."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.seq = 0

    def op(
        self,
        desk: Desk,
        sticker: str,
        *,
        ms: int = 0,
        create: bool = False,
        now: datetime | None = None,
        seen: dict[str, list[object]] | None = None,
        counter: int = 0,
        **changes: object,
    ):
        ack = desk.apply_op(
            client_id=self.client_id,
            client_seq=self.seq + 1,
            sticker_id=sticker,
            create=create,
            changes=changes,
            stamp=[T0_MS + ms, counter, self.client_id],
            seen=seen,
            now=now or at(max(ms, 0)),
        )
        self.seq = max(self.seq, ack.client_seq)
        return ack


def test_a_created_sticker_has_defaults_for_fields_not_given():
    desk, ann = a_desk(), Author("ann")
    ann.op(desk, "s1", create=True, text="hello")
    sticker = desk.sticker("s1")
    assert sticker["text"] == "hello"
    assert sticker["deleted"] is False
    assert set(sticker) == {"x", "y", "w", "h", "z", "colour", "text", "deleted"}


def test_accepted_ops_get_gapless_desk_seqs_across_clients():
    desk, ann, bob = a_desk(), Author("ann"), Author("bob")
    seqs = [
        ann.op(desk, "s1", create=True).desk_seq,
        bob.op(desk, "s2", create=True, ms=1).desk_seq,
        ann.op(desk, "s2", ms=2, x=5).desk_seq,
    ]
    assert seqs == [1, 2, 3]
    assert desk.desk_seq == 3


def test_an_edit_changes_a_field_only_with_a_greater_stamp():
    desk, ann, bob = a_desk(), Author("ann"), Author("bob")
    ann.op(desk, "s1", create=True, ms=10)
    late = ann.op(desk, "s1", ms=50, x=1)
    early = bob.op(desk, "s1", ms=20, x=2, y=3)
    assert late.applied == ["x"]
    assert early.applied == ["y"] and early.superseded == ["x"]
    assert (desk.sticker("s1")["x"], desk.sticker("s1")["y"]) == (1, 3)


def test_equal_wall_times_are_ordered_by_counter_then_client():
    desk, ann, bob = a_desk(), Author("ann"), Author("bob")
    ann.op(desk, "s1", create=True)
    ann.op(desk, "s1", ms=5, counter=1, text="ann")
    assert bob.op(desk, "s1", ms=5, counter=1, text="bob").applied == ["text"]
    assert desk.sticker("s1")["text"] == "bob"


def test_create_is_an_idempotent_upsert():
    desk, ann, bob = a_desk(), Author("ann"), Author("bob")
    ann.op(desk, "s1", create=True, ms=10, text="first")
    ann.op(desk, "s1", ms=20, x=7)
    again = bob.op(desk, "s1", create=True, ms=15, text="second")
    assert again.applied != [] and "x" in again.superseded
    assert desk.sticker("s1")["x"] == 7
    assert len(desk.stickers) == 1


def test_a_deleted_sticker_stays_a_tombstone_and_a_restore_shows_the_latest_values():
    desk, ann, bob = a_desk(), Author("ann"), Author("bob")
    ann.op(desk, "s1", create=True)
    ann.op(desk, "s1", ms=10, deleted=True)
    bob.op(desk, "s1", ms=20, text="edited while deleted")
    assert desk.sticker("s1")["deleted"] is True
    ann.op(desk, "s1", ms=30, deleted=False)
    assert desk.sticker("s1")["text"] == "edited while deleted"
    assert desk.sticker("s1")["deleted"] is False


def test_an_edit_of_an_unknown_sticker_is_refused():
    desk, ann = a_desk(), Author("ann")
    with pytest.raises(UnknownSticker):
        ann.op(desk, "nope", x=1)
    assert desk.desk_seq == 0


def test_a_stamp_more_than_a_minute_ahead_is_refused_with_clock_skew():
    desk, ann = a_desk(), Author("ann")
    with pytest.raises(ClockSkew) as refused:
        ann.op(desk, "s1", create=True, ms=60_001, now=at(0))
    assert refused.value.server_ms == T0_MS
    assert ann.op(desk, "s1", create=True, ms=60_000, now=at(0)).desk_seq == 1


def test_a_stamp_of_another_client_is_refused():
    desk = a_desk()
    with pytest.raises(InvalidStamp):
        desk.apply_op(
            client_id="ann",
            client_seq=1,
            sticker_id="s1",
            create=True,
            changes={},
            stamp=[T0_MS, 0, "bob"],
            now=T0,
        )


def test_unknown_fields_are_refused_and_change_nothing():
    desk, ann = a_desk(), Author("ann")
    ann.op(desk, "s1", create=True)
    with pytest.raises(UnknownField):
        ann.op(desk, "s1", ms=1, x=1, owner="ann")
    assert desk.sticker("s1")["x"] == 0.0 and desk.desk_seq == 1


@pytest.mark.parametrize(
    "changes",
    [{"x": "1"}, {"w": 0}, {"x": float("nan")}, {"colour": "red"}, {"z": ""}, {"deleted": 1}],
)
def test_malformed_values_are_refused(changes):
    desk, ann = a_desk(), Author("ann")
    with pytest.raises(InvalidValue):
        ann.op(desk, "s1", create=True, **changes)


def test_text_over_ten_kilobytes_of_utf8_is_refused():
    desk, ann = a_desk(), Author("ann")
    ann.op(desk, "s1", create=True, text="é" * (MAX_TEXT_BYTES // 2))
    with pytest.raises(TextTooLong):
        ann.op(desk, "s1", ms=1, text="é" * (MAX_TEXT_BYTES // 2) + "!")


def test_the_ten_thousand_and_first_sticker_is_refused():
    from domain.desk import MAX_STICKERS, TooManyStickers

    desk, ann = a_desk(), Author("ann")
    for number in range(MAX_STICKERS):
        ann.op(desk, f"s{number}", create=True)
    with pytest.raises(TooManyStickers):
        ann.op(desk, "one-more", create=True)
    assert ann.op(desk, "s0", create=True, ms=1).desk_seq == MAX_STICKERS + 1


def test_a_resent_op_is_acknowledged_again_and_not_applied_twice():
    desk, ann = a_desk(), Author("ann")
    first = ann.op(desk, "s1", create=True)
    resent = desk.apply_op(
        client_id="ann",
        client_seq=1,
        sticker_id="s1",
        create=True,
        changes={},
        stamp=[T0_MS, 0, "ann"],
        now=T0,
    )
    assert resent.replayed
    assert (resent.desk_seq, resent.applied) == (first.desk_seq, first.applied)
    assert desk.desk_seq == 1 and len(desk.collect_events()) == 2


def test_a_gap_in_client_seqs_asks_to_resend_from_the_missing_one():
    desk, ann = a_desk(), Author("ann")
    ann.op(desk, "s1", create=True)
    ann.seq = 2
    with pytest.raises(SequenceGap) as refused:
        ann.op(desk, "s1", ms=1, x=1)
    assert refused.value.expected == 2


def test_a_refused_op_does_not_use_up_its_client_seq():
    desk, ann = a_desk(), Author("ann")
    with pytest.raises(UnknownSticker):
        ann.op(desk, "s1", x=1)
    assert ann.op(desk, "s1", create=True).client_seq == 1


def test_losing_a_text_edit_to_an_unseen_value_is_a_collision_naming_the_winner():
    desk, ann, bob = a_desk(), Author("ann"), Author("bob")
    ann.op(desk, "s1", create=True, text="v0")
    bob.op(desk, "s1", ms=20, text="bob's")
    ack = ann.op(desk, "s1", ms=10, seen={"text": [T0_MS, 0, "ann"]}, text="ann's")
    [collision] = ack.collisions
    assert (collision.sticker, collision.field, collision.lost) == ("s1", "text", "ann's")
    assert collision.winner == "bob's" and collision.winner_stamp == (T0_MS + 20, 0, "bob")


def test_losing_a_move_is_a_collision_only_after_thirty_seconds_offline():
    desk, ann, bob = a_desk(), Author("ann"), Author("bob")
    ann.op(desk, "s1", create=True)
    bob.op(desk, "s1", ms=40_000, x=1)
    assert ann.op(desk, "s1", ms=20_000, now=at(40_000), x=2).collisions == ()
    [collision] = ann.op(desk, "s1", ms=5_000, now=at(40_000), y=2, x=3).collisions
    assert collision.field == "x"


def test_losing_to_a_value_the_author_saw_is_no_collision():
    desk, ann, bob = a_desk(), Author("ann"), Author("bob")
    ann.op(desk, "s1", create=True)
    bob.op(desk, "s1", ms=20, colour="#000000")
    ack = ann.op(desk, "s1", ms=10, seen={"colour": [T0_MS + 20, 0, "bob"]}, colour="#ffffff")
    assert ack.superseded == ["colour"] and ack.collisions == ()


def test_a_desk_expires_after_its_ttl_since_the_last_edit():
    desk, ann = a_desk(ttl_ms=1000), Author("ann")
    ann.op(desk, "s1", create=True, ms=500)
    assert not desk.is_expired(at(1499))
    assert desk.is_expired(at(1500))
    with pytest.raises(DeskExpired):
        ann.op(desk, "s1", ms=1500, x=1)


def test_only_the_creator_finishes_a_session():
    desk = a_desk()
    with pytest.raises(NotCreator):
        desk.finish_session(creator_token_hash="x" * 64, now=T0)
    assert desk.finish_session(creator_token_hash="h" * 64, now=T0) == 2


def test_a_desk_replays_and_snapshots_to_the_same_state():
    desk, ann, bob = a_desk(), Author("ann"), Author("bob")
    ann.op(desk, "s1", create=True, text="a")
    bob.op(desk, "s1", ms=3, x=4)
    events = desk.collect_events()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.stickers == desk.stickers and replayed.clients == desk.clients
    restored = Snapshot.take(desk).mutate(None)
    assert restored.stickers == desk.stickers and restored.desk_seq == 2
