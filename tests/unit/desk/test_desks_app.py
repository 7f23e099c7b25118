from datetime import datetime, timedelta

import pytest
from eventsourcing.persistence import Mapper

from commands.codec import StoredEventMapper
from commands.desk.desks import DeskGone, DeskNotFound, Desks, desk_id_of, desk_link
from commands.desk.wire import ApplyStickerOp, InitDesk, StickerFields
from domain.desk import epoch_ms
from tests.factories import T0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def an_op(seq: int = 1, **fields: object) -> ApplyStickerOp:
    return ApplyStickerOp(
        client_id="ann",
        client_seq=seq,
        sticker="s1",
        stamp=(epoch_ms(T0) + seq, 0, "ann"),
        fields=StickerFields(**fields),  # type: ignore[arg-type]
        create=seq == 1,
    )


@pytest.fixture
def desks():
    clock = Clock()
    app = Desks(clock=clock, ttl_s=3600, linger_s=0.001)
    app.test_clock = clock
    yield app
    app.stop_writers()


ANN = ["browser:ann"]
BOB = ["browser:bob"]


def a_new(desks, name: str = "retro", openers: list[str] = ANN):
    return desks.init_desk(InitDesk(name=name, create_new=True), openers)


def test_init_by_name_finds_the_desk_and_shows_the_creator_token_only_once(desks):
    made = a_new(desks)
    found = desks.init_desk(InitDesk(name="retro"), ANN)
    assert made.creator_token and found.creator_token is None
    assert found.desk.id == made.desk.id


def test_create_new_makes_another_desk_that_the_name_then_finds(desks):
    first = a_new(desks)
    second = a_new(desks)
    assert second.desk.id != first.desk.id
    assert desks.init_desk(InitDesk(name="retro"), ANN).desk.id == second.desk.id


def test_a_name_someone_else_created_is_not_found(desks):
    a_new(desks, openers=ANN)
    with pytest.raises(DeskNotFound) as theirs:
        desks.init_desk(InitDesk(name="retro"), BOB)
    with pytest.raises(DeskNotFound) as nobodys:
        desks.init_desk(InitDesk(name="never made"), BOB)
    assert str(theirs.value) == str(nobodys.value)


def test_an_unknown_name_creates_nothing(desks):
    with pytest.raises(DeskNotFound):
        desks.init_desk(InitDesk(name="retro"), ANN)
    with pytest.raises(DeskNotFound):
        desks.init_desk(InitDesk(name="retro"), ANN)


def test_a_desk_opened_by_its_link_is_then_found_by_its_name(desks):
    made = a_new(desks, openers=ANN)
    desks.remember_openers(made.desk.id, "retro", BOB)
    assert desks.init_desk(InitDesk(name="retro"), BOB).desk.id == made.desk.id


def test_someone_elses_new_desk_of_the_same_name_does_not_take_yours_over(desks):
    mine = a_new(desks, openers=ANN)
    a_new(desks, openers=BOB)
    assert desks.init_desk(InitDesk(name="retro"), ANN).desk.id == mine.desk.id


def test_a_desk_found_through_the_browser_is_then_found_by_the_account_too(desks):
    made = a_new(desks, openers=ANN)
    desks.init_desk(InitDesk(name="retro"), [*ANN, "account:a1"])
    assert desks.init_desk(InitDesk(name="retro"), ["account:a1"]).desk.id == made.desk.id


def test_a_desk_link_carries_128_random_bits_and_maps_back():
    from uuid import UUID

    desk_id = UUID(int=2**128 - 1)
    assert len(desk_link(desk_id)) == 22
    assert desk_id_of(desk_link(desk_id)) == desk_id
    with pytest.raises(DeskNotFound):
        desk_id_of("not-a-link")


async def test_ops_through_the_writer_are_stored_and_resends_are_acknowledged_again(desks):
    desk_id = a_new(desks).desk.id
    first = await desks.apply_op(desk_id, an_op(1, text="hi"))
    again = await desks.apply_op(desk_id, an_op(1, text="hi"))
    assert (first.desk_seq, again.desk_seq, again.replayed) == (1, 1, True)
    assert desks.get_desk(desk_id).sticker("s1")["text"] == "hi"
    assert desks.get_desk(desk_id).desk_seq == 1


def test_an_expired_desk_is_gone_and_its_name_finds_nothing(desks):
    made = a_new(desks)
    desks.test_clock.now = T0 + timedelta(hours=1)
    with pytest.raises(DeskGone):
        desks.get_desk(made.desk.id)
    with pytest.raises(DeskNotFound):
        desks.init_desk(InitDesk(name="retro"), ANN)


def test_the_stored_event_mapper_stores_ops_exactly_as_the_library_would(desks):
    desk_id = a_new(desks).desk.id
    desk = desks.get_desk(desk_id)
    desk.apply_op(
        client_id="ann", client_seq=1, sticker_id="s1", create=True,
        changes={"text": "héllo", "x": 3.5}, stamp=(epoch_ms(T0), 0, "ann"), now=T0,
    )
    desk.apply_op(
        client_id="ann", client_seq=2, sticker_id="s1", create=False,
        changes={"deleted": True}, stamp=(epoch_ms(T0) + 1, 0, "ann"), now=T0,
    )
    desk.finish_session(creator_token_hash=desk.creator_token_hash, now=T0)
    library = Mapper(transcoder=desks.construct_transcoder())
    ours = StoredEventMapper(desks.construct_transcoder())
    events = desk.collect_events()
    assert len(events) == 3
    for event in events:
        stored = ours.to_stored_event(event)
        assert stored == library.to_stored_event(event)
        assert ours.to_domain_event(stored) == event


@pytest.mark.parametrize("snapshot_every", [0, 5])
def test_a_desk_loaded_through_the_lean_replay_equals_the_librarys_projection(snapshot_every):
    """`commands.stored` replays without the library's per-event Protocol assertion: the same
    desk, from its events alone or from a snapshot and the events after it."""
    clock = Clock()
    desks = Desks(clock=clock, ttl_s=3600, linger_s=0.001, snapshot_every=snapshot_every)
    try:
        desk_id = a_new(desks).desk.id
        for seq in range(1, 13):
            desks.writer.submit_threadsafe(desk_id, an_op(seq, x=seq, text=f"v{seq}")).result(5)
        library = desks.repository.get(desk_id)  # the library's `project_aggregate`
        ours = desks.get_desk(desk_id)
        assert ours.version == library.version == 13  # created, then 12 ops
        assert vars(ours) == vars(library)
        assert ours.stickers["s1"] == library.stickers["s1"]
    finally:
        desks.stop_writers()
