"""The accounts read model in PostgreSQL, and the read model the projection runner drives."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from domain.account import account_kind
from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.identity.accounts import AccountChange, AccountsProjection
from projections.recorded import Recorded

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.account_views (
    account_id uuid PRIMARY KEY,
    display_name text NOT NULL,
    identities text[] NOT NULL DEFAULT '{{}}',
    roles text[] NOT NULL DEFAULT '{{}}',
    banned boolean NOT NULL DEFAULT false,
    version bigint NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);
"""

_SQL = {
    "registered": "INSERT INTO {s}.account_views (account_id, display_name, version) "
    "VALUES ($1, $3, $2) ON CONFLICT (account_id) DO NOTHING",
    "linked": "UPDATE {s}.account_views SET identities = array_append(identities, $3), "
    "version = $2 WHERE account_id = $1",
    "unlinked": "UPDATE {s}.account_views SET identities = array_remove(identities, $3), "
    "version = $2 WHERE account_id = $1",
    "renamed": "UPDATE {s}.account_views SET display_name = $3, version = $2 WHERE account_id = $1",
    "granted": "UPDATE {s}.account_views SET roles = array_append(roles, $3), version = $2 "
    "WHERE account_id = $1",
    "revoked": "UPDATE {s}.account_views SET roles = array_remove(roles, $3), version = $2 "
    "WHERE account_id = $1",
    "banned": "UPDATE {s}.account_views SET banned = true, version = $2 WHERE account_id = $1",
}


class AccountOut(msgspec.Struct):
    id: UUID
    display_name: str
    identities: list[str]
    roles: list[str]
    banned: bool
    kind: str = "member"
    """`guest` while every way to sign in is a guest's (`domain.account.account_kind`)."""


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class AccountView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)
        self._sql = {kind: sql.format(s=self._s) for kind, sql in _SQL.items()}

    async def write(self, conn: asyncpg.Connection, changes: list[AccountChange]) -> None:
        for change in changes:
            args: tuple[object, ...] = (change.account_id, change.version)
            if change.kind != "banned":
                args += (change.value,)
            await conn.execute(self._sql[change.kind], *args)

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {self._s}.account_views")

    async def find_account(self, account_id: UUID) -> AccountOut | None:
        row = await self._pool.fetchrow(
            f"SELECT * FROM {self._s}.account_views WHERE account_id = $1", account_id
        )
        return None if row is None else _out(row)

    async def list_accounts(self, *, limit: int, after: UUID | None) -> list[AccountOut]:
        rows = await self._pool.fetch(
            f"SELECT * FROM {self._s}.account_views WHERE $1::uuid IS NULL OR account_id > $1 "
            "ORDER BY account_id LIMIT $2",
            after, limit,
        )
        return [_out(row) for row in rows]


def _out(row: asyncpg.Record) -> AccountOut:
    identities = list(row["identities"])
    return AccountOut(row["account_id"], row["display_name"], identities,
                      list(row["roles"]), row["banned"], account_kind(identities))


class AccountsReadModel:
    name = "accounts"
    topics = AccountsProjection.topics

    def __init__(self, view: AccountView) -> None:
        self.view = view
        self.projection = AccountsProjection()

    async def load(self) -> None:
        self.projection = AccountsProjection()  # stateless between batches

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        self.projection = AccountsProjection()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        await self.view.write(conn, self.projection.collect())
        return None
