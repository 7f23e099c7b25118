"""The notification outbox: a read model fed by events (`projections.billiards.notifications`)
whose rows are the notices to send, each keyed by its event's id and its recipient. A row is
inserted if absent, in the transaction that moves the projection's position, so replaying an
event (a restart mid-batch, a rebuild) never makes a second notice. The sender
(`infra.billiards.notifier`) claims a row before sending it and never sends a claimed row again.

Rows: `billiards_outbox` (the notices: `pending`, `sending`, `sent` or `dropped` with a reason),
`billiards_outbox_recipients` (how each player is reached: chat, language, kinds wanted, whether
his chat blocked the bot), `billiards_outbox_facts` (what later events need: club and table
names, whose queue entry, who sits where in a match)."""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg
import msgspec

from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.billiards.notifications import (
    Fact,
    Notice,
    NotificationsProjection,
    OutboxChange,
    Recipient,
)
from projections.recorded import Recorded

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.billiards_outbox (
    key text PRIMARY KEY,
    account text NOT NULL,
    kind text NOT NULL,
    params jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending',
    attempts int NOT NULL DEFAULT 0,
    next_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    reason text
);
CREATE INDEX IF NOT EXISTS billiards_outbox_due ON {s}.billiards_outbox (next_at)
    WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS {s}.billiards_outbox_recipients (
    player_id uuid PRIMARY KEY,
    account text NOT NULL UNIQUE,
    chat_id bigint,
    language text NOT NULL DEFAULT 'ru',
    notices text[],
    chat_blocked boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS {s}.billiards_outbox_facts (
    key text PRIMARY KEY,
    value jsonb NOT NULL
);
"""

_json = msgspec.json.Encoder()


def _j(value: Any) -> str:
    return _json.encode(value).decode()


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class OutboxView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema
        self._s = quote_ident(schema)

    async def write(self, conn: asyncpg.Connection, changes: list[OutboxChange]) -> int:
        """Apply the changes; returns how many notices were new."""
        added = 0
        for change in changes:
            match change:
                case Recipient():
                    await self._recipient(conn, change)
                case Fact():
                    await self._fact(conn, change)
                case Notice():
                    added += await self._notice(conn, change)
        return added

    async def _recipient(self, conn: asyncpg.Connection, r: Recipient) -> None:
        t = f"{self._s}.billiards_outbox_recipients"
        if r.account is not None:
            await conn.execute(
                f"INSERT INTO {t} (player_id, account) VALUES ($1, $2) "
                "ON CONFLICT (player_id) DO NOTHING", r.player_id, r.account,
            )
        elif r.language is not None:
            await conn.execute(
                f"UPDATE {t} SET language = $2, notices = $3, chat_blocked = false "
                "WHERE player_id = $1", r.player_id, r.language, r.notices,
            )
        else:
            await conn.execute(
                f"UPDATE {t} SET chat_id = $2, chat_blocked = chat_blocked AND chat_id = $2 "
                "WHERE player_id = $1", r.player_id, r.chat_id,
            )

    async def _fact(self, conn: asyncpg.Connection, fact: Fact) -> None:
        value = fact.value
        if fact.join_seat:
            stored = await self._facts(conn, [fact.key])
            seats = list(stored.get(fact.key, {}).get("seats", []))
            seat = value["seat"]
            if seat is None:
                seats.append(value["account"])
            elif 0 <= seat < len(seats):
                seats[seat] = value["account"]
            value = {**stored.get(fact.key, {}), "seats": seats}
        await conn.execute(
            f"INSERT INTO {self._s}.billiards_outbox_facts (key, value) VALUES ($1, $2::jsonb) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", fact.key, _j(value),
        )

    async def _facts(self, conn: asyncpg.Connection, keys: list[str]) -> dict[str, Any]:
        rows = await conn.fetch(
            f"SELECT key, value::text FROM {self._s}.billiards_outbox_facts "
            "WHERE key = ANY($1::text[])", keys,
        )
        return {row[0]: msgspec.json.decode(row[1]) for row in rows}

    async def _notice(self, conn: asyncpg.Connection, notice: Notice) -> int:
        params = dict(notice.params)
        accounts = list(notice.to_accounts)
        if notice.to_player is not None:
            account = await conn.fetchval(
                f"SELECT account FROM {self._s}.billiards_outbox_recipients WHERE player_id = $1",
                notice.to_player,
            )
            accounts += [account] if account else []
        if notice.to_entries:
            entries = await self._facts(conn, [f"entry:{e}" for e in notice.to_entries])
            accounts += [fact["account"] for fact in entries.values()]
            club_key = f"club:{params['club_id']}"
            table_key = f"table:{params['club_id']}/{params['table_id']}"
            names = await self._facts(conn, [club_key, table_key])
            params["club"] = names.get(club_key, {}).get("name", "")
            params["table"] = names.get(table_key, {}).get("name", "")
        if notice.to_match is not None:
            match = (await self._facts(conn, [f"match:{notice.to_match}"])).get(
                f"match:{notice.to_match}", {})
            seats = match.get("seats", [])
            params["seats"] = seats
            params["template"] = match.get("template", "")
            accounts += [account for account in seats if account]
        added = 0
        for account in dict.fromkeys(accounts):
            status = await conn.execute(
                f"INSERT INTO {self._s}.billiards_outbox (key, account, kind, params) "
                "VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (key) DO NOTHING",
                f"{notice.key}/{account}", account, notice.kind, _j(params),
            )
            added += status.endswith(" 1")
        return added

    async def reset(self, conn: asyncpg.Connection) -> None:
        """A rebuild starts the projection over but keeps the notices (sent or not): their keys
        are what stops a replayed event from being notified twice."""
        await conn.execute(
            f"TRUNCATE {self._s}.billiards_outbox_recipients, {self._s}.billiards_outbox_facts"
        )

    async def list_notices(self, account: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT key, kind, params::text, state, reason, created_at, sent_at "
            f"FROM {self._s}.billiards_outbox WHERE account = $1 "
            "ORDER BY created_at DESC LIMIT $2", account, limit,
        )
        return [
            {"key": r["key"], "kind": r["kind"], "params": msgspec.json.decode(r["params"]),
             "state": r["state"], "reason": r["reason"], "created_at": r["created_at"].isoformat(),
             "sent_at": None if r["sent_at"] is None else r["sent_at"].isoformat()}
            for r in rows
        ]


class Sender(Protocol):
    """What sends the outbox's notices (`infra.billiards.notifier.Notifier`)."""

    def start(self) -> None: ...

    def wake(self) -> None: ...

    async def stop(self) -> None: ...


class OutboxReadModel:
    """The outbox projection and its sender, which runs where the projection runs: started by
    the runner's (re)load, woken after a commit that added notices, stopped with the runner."""

    name = "billiards_outbox"
    topics = NotificationsProjection.topics

    def __init__(self, view: OutboxView, sender: Sender | None = None) -> None:
        self.view = view
        self.sender = sender
        self.projection = NotificationsProjection()

    async def load(self) -> None:
        self.projection = NotificationsProjection()
        if self.sender is not None:
            self.sender.start()

    async def close(self) -> None:
        if self.sender is not None:
            await self.sender.stop()

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        self.projection = NotificationsProjection()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        added = await self.view.write(conn, self.projection.collect())
        sender = self.sender
        if not added or sender is None:
            return None

        async def after_commit() -> None:
            sender.wake()

        return after_commit
