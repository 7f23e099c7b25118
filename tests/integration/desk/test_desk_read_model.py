"""The desk read model keeps recently changed stickers' registers between batches: the view it
writes is what folding every event gives, whether a sticker was kept, pushed out by the limit, or
read back from the view after a failed batch."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
from eventsourcing.persistence import Mapper

from commands.codec import MsgspecTranscoder
from domain.desk import Desk
from infra.desk.view import DeskReadModel, DeskView, sticker_out
from projections.recorded import Recorded

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


class _Log:
    """A desk's events as the projection gets them: stored, numbered, in order."""

    def __init__(self) -> None:
        self.mapper = Mapper[type[object]](transcoder=MsgspecTranscoder())
        self.position = 0

    def recorded(self, desk: Desk) -> list[Recorded]:
        out = []
        for event in desk.collect_events():
            stored = self.mapper.to_stored_event(event)
            self.position += 1
            out.append(
                Recorded(
                    self.position,
                    stored.originator_id,
                    stored.originator_version,
                    stored.topic,
                    stored.state,
                )
            )
        return out


def edits(desk: Desk, client: str, first_seq: int, count: int, *, late: bool) -> None:
    """`count` ops of `client` over five stickers; `late` ones are stamped behind the others',
    so some of their fields lose."""
    for n in range(count):
        seq = first_seq + n
        sticker = f"s{n % 5}"
        wall = NOW_MS - (5000 if late else 0) + seq
        desk.apply_op(
            client_id=client,
            client_seq=seq,
            sticker_id=sticker,
            create=sticker not in desk.stickers,
            changes={"x": float(seq), "text": f"{client}{seq}"} if n % 2 else {"y": float(seq)},
            stamp=(wall, 0, client),
            now=NOW + timedelta(milliseconds=seq),
        )


async def write(model: DeskReadModel, pool: asyncpg.Pool, events: list[Recorded]) -> None:
    for event in events:
        model.apply(event)
    async with pool.acquire() as conn, conn.transaction():
        await model.write(conn)


@pytest.mark.parametrize("kept", [1000, 2])
async def test_the_view_holds_what_the_desk_holds(settings, kept: int):
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        view = DeskView(pool, settings.schema)
        model = DeskReadModel(view, kept=kept)
        log = _Log()
        desk = Desk.create(
            desk_id=uuid4(), name="kept", creator_token_hash="h", ttl_ms=10**9, now=NOW
        )
        await write(model, pool, log.recorded(desk))
        for batch in range(4):
            edits(desk, "ann", batch * 6 + 1, 6, late=False)
            edits(desk, "bob", batch * 6 + 1, 6, late=True)
            await write(model, pool, log.recorded(desk))

        # A batch whose transaction fails: the runner then reloads the model and goes again.
        edits(desk, "ann", 25, 6, late=False)
        failed = log.recorded(desk)
        with pytest.raises(RuntimeError):
            async with pool.acquire() as conn, conn.transaction():
                for event in failed:
                    model.apply(event)
                await model.write(conn)
                raise RuntimeError("the commit fails")
        await model.load()
        await write(model, pool, failed)

        stored = await view.find_desk(desk.id)
        assert stored is not None and stored.desk_seq == desk.desk_seq
        expected = sorted(
            (sticker_out(key, registers) for key, registers in desk.stickers.items()),
            key=lambda sticker: sticker.id,
        )
        assert stored.stickers == expected
    finally:
        await pool.close()
