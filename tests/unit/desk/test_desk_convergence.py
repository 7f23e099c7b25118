"""Any interleaving and duplication of the same ops converges to the same desk everywhere."""

from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import lww
from domain.desk import Desk, epoch_ms
from tests.factories import T0

T0_MS = epoch_ms(T0)
CLIENTS = ["ann", "bob", "cid"]
STICKERS = ["s1", "s2", "s3"]

values = {
    "x": st.integers(-100, 100),
    "y": st.integers(-100, 100),
    "z": st.sampled_from(["a0", "a1", "b0"]),
    "colour": st.sampled_from(["#000000", "#ffffff", "#ff0000"]),
    "text": st.sampled_from(["", "a", "b", "ab"]),
    "deleted": st.booleans(),
}


@st.composite
def changes(draw: st.DrawFn) -> dict[str, object]:
    fields = draw(st.sets(st.sampled_from(sorted(values)), min_size=1, max_size=4))
    return {field: draw(values[field]) for field in sorted(fields)}


# (client, sticker, create, changes, wall offset) — a client may repeat a wall time: the
# counter of its clock then tells its ops apart, as a hybrid logical clock does.
op = st.tuples(
    st.sampled_from(CLIENTS),
    st.sampled_from(STICKERS),
    st.booleans(),
    changes(),
    st.integers(0, 5),
)


def stamped(ops: list[tuple[str, str, bool, dict[str, object], int]]) -> list[tuple]:
    clocks = {client: (0, 0, client) for client in CLIENTS}
    out = []
    for client, sticker, create, fields, offset in ops:
        clocks[client] = lww.next_stamp(clocks[client], T0_MS + offset, client)
        out.append((client, sticker, create, fields, clocks[client]))
    return out


def replica(order: list[tuple]) -> lww.Board:
    board: lww.Board = {}
    for _, sticker, create, fields, stamp in order:
        lww.merge(board, sticker, {**lww.DEFAULTS, **fields} if create else fields, stamp)
    return board


def final(board: lww.Board) -> dict[str, dict[str, object]]:
    return {sticker: lww.values(registers) for sticker, registers in board.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(op, min_size=1, max_size=30), st.data())
def test_replicas_merging_any_order_with_duplicates_converge(ops, data):
    stamped_ops = stamped(ops)
    orders = [
        data.draw(st.permutations(stamped_ops + data.draw(st.lists(st.sampled_from(stamped_ops)))))
        for _ in range(3)
    ]
    boards = [final(replica(order)) for order in orders]
    assert boards[0] == boards[1] == boards[2] == final(replica(stamped_ops))


@st.composite
def client_streams(draw: st.DrawFn) -> dict[str, list[tuple]]:
    """Each client's own ops; a client edits only stickers it created before (it has seen
    them), while any client may create (upsert) any sticker."""
    streams: dict[str, list[tuple]] = {}
    for client in CLIENTS:
        created: set[str] = set()
        ops = []
        for sticker, create, fields, offset in draw(
            st.lists(
                st.tuples(st.sampled_from(STICKERS), st.booleans(), changes(), st.integers(0, 5)),
                max_size=10,
            )
        ):
            create = create or sticker not in created
            created.add(sticker)
            ops.append((client, sticker, create, fields, offset))
        streams[client] = stamped(ops)
    return streams


def serve(streams: dict[str, list[tuple]], schedule: list[str], resends: list[int]) -> Desk:
    """One server desk fed the clients' streams interleaved by `schedule`, with resends."""
    desk = Desk.create(desk_id=uuid4(), name="d", creator_token_hash="", ttl_ms=10**9, now=T0)
    sent = dict.fromkeys(streams, 0)
    for step, client in enumerate(schedule):
        stream = streams[client]
        if sent[client] == len(stream):
            continue
        seq = sent[client] + 1
        if step < len(resends) and resends[step] and sent[client]:
            seq = max(1, sent[client] - resends[step] + 1)  # a resend of an acknowledged op
        _, sticker, create, fields, stamp = stream[seq - 1]
        ack = desk.apply_op(
            client_id=client,
            client_seq=seq,
            sticker_id=sticker,
            create=create,
            changes=fields,
            stamp=list(stamp),
            now=T0,
        )
        if not ack.replayed:
            sent[client] = seq
    for client, stream in streams.items():  # the rest, in order
        for seq in range(sent[client] + 1, len(stream) + 1):
            _, sticker, create, fields, stamp = stream[seq - 1]
            desk.apply_op(
                client_id=client,
                client_seq=seq,
                sticker_id=sticker,
                create=create,
                changes=fields,
                stamp=list(stamp),
                now=T0,
            )
    return desk


@settings(max_examples=200, deadline=None)
@given(
    client_streams(),
    st.lists(st.sampled_from(CLIENTS), max_size=60),
    st.lists(st.sampled_from(CLIENTS), max_size=60),
    st.lists(st.integers(0, 2), max_size=60),
)
def test_desks_fed_any_interleaving_with_resends_converge(streams, one, other, resends):
    first, second = serve(streams, one, resends), serve(streams, other, [])
    assert final(first.stickers) == final(second.stickers)
    total = sum(len(stream) for stream in streams.values())
    assert first.desk_seq == second.desk_seq == total
