"""The friends and groups read models in PostgreSQL, and the read model the runner drives.

Rows: `billiards_players` (a profile per account), `billiards_friends` (one row per side of a
pair: `friend`, `incoming`, `outgoing` or `blocked`), `billiards_groups`, their members and
their open join requests. Player events name the player by aggregate id; rows by account."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from domain.billiards.group import group_owner_key
from domain.billiards.player import NOTICE_KINDS
from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.billiards.social import SocialChange, SocialProjection
from projections.recorded import Recorded

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.billiards_players (
    account text PRIMARY KEY,
    player_id uuid NOT NULL UNIQUE,
    name text NOT NULL,
    share_code text NOT NULL UNIQUE,
    username text,
    telegram boolean NOT NULL DEFAULT false,
    language text NOT NULL DEFAULT 'ru',
    notices text[] NOT NULL DEFAULT '{{}}',
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS billiards_players_username ON {s}.billiards_players (username)
    WHERE username IS NOT NULL;
CREATE TABLE IF NOT EXISTS {s}.billiards_friends (
    account text NOT NULL,
    other text NOT NULL,
    state text NOT NULL,
    since timestamptz NOT NULL,
    PRIMARY KEY (account, other)
);
CREATE TABLE IF NOT EXISTS {s}.billiards_groups (
    group_id uuid PRIMARY KEY,
    name text NOT NULL,
    open boolean NOT NULL,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.billiards_group_members (
    group_id uuid NOT NULL,
    account text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (group_id, account)
);
CREATE INDEX IF NOT EXISTS billiards_group_members_account
    ON {s}.billiards_group_members (account);
CREATE TABLE IF NOT EXISTS {s}.billiards_group_requests (
    group_id uuid NOT NULL,
    account text NOT NULL,
    name text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (group_id, account)
);
"""

_ACCOUNT = "(SELECT account FROM {s}.billiards_players WHERE player_id = $1)"
_SIDE = (
    "INSERT INTO {s}.billiards_friends (account, other, state, since) "
    f"VALUES ({_ACCOUNT}, $2, '%s', $3) "
    "ON CONFLICT (account, other) DO UPDATE SET state = EXCLUDED.state, since = EXCLUDED.since"
)
_UNSIDE = f"DELETE FROM {{s}}.billiards_friends WHERE account = {_ACCOUNT} AND other = $2 " \
    "AND state = ANY($3::text[])"

_SQL: dict[str, str] = {
    "Player.Registered": "INSERT INTO {s}.billiards_players (account, player_id, name, "
    "share_code, notices, updated_at) VALUES ($2, $1, $3, $4, $5, $6) "
    "ON CONFLICT (account) DO NOTHING",
    "Player.ProfileUpdated": "UPDATE {s}.billiards_players SET name = $2, username = $3, "
    "telegram = $4, updated_at = $5 WHERE player_id = $1",
    "Player.PreferencesSet": "UPDATE {s}.billiards_players SET language = $2, notices = $3, "
    "updated_at = $4 WHERE player_id = $1",
    "Player.RequestSent": _SIDE % "outgoing",
    "Player.RequestReceived": _SIDE % "incoming",
    "Player.FriendAdded": _SIDE % "friend",
    "Player.PlayerBlocked": _SIDE % "blocked",
    "Player.RequestDropped": _UNSIDE,
    "Player.FriendRemoved": _UNSIDE,
    "Player.PlayerUnblocked": _UNSIDE,
    "Group.Created": "INSERT INTO {s}.billiards_groups (group_id, name, open, version, "
    "created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (group_id) DO NOTHING; ",
    "Group.Created.owner": "INSERT INTO {s}.billiards_group_members (group_id, account, name, "
    "role, joined_at) VALUES ($1, $2, $3, 'owner', $4) ON CONFLICT DO NOTHING",
    "Group.JoinRequested": "INSERT INTO {s}.billiards_group_requests (group_id, account, name, "
    "at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    "Group.JoinDeclined": "DELETE FROM {s}.billiards_group_requests WHERE group_id = $1 "
    "AND account = $2",
    "Group.MemberJoined": "INSERT INTO {s}.billiards_group_members (group_id, account, name, "
    "role, joined_at) VALUES ($1, $2, $3, 'member', $4) ON CONFLICT DO NOTHING",
    "Group.MemberLeft": "DELETE FROM {s}.billiards_group_members WHERE group_id = $1 "
    "AND account = $2",
    "Group.RoleSet": "UPDATE {s}.billiards_group_members SET role = $3 WHERE group_id = $1 "
    "AND account = $2",
    "Group.Changed": "UPDATE {s}.billiards_groups SET name = $2, open = $3 WHERE group_id = $1",
}


def _args(change: SocialChange) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements a change runs, and their arguments."""
    f, key, at = change.fields, change.aggregate_id, change.at
    match change.kind:
        case "Player.Registered":
            return [(change.kind, (key, f["account"], f["name"], f["share_code"],
                                   list(NOTICE_KINDS), at))]
        case "Player.ProfileUpdated":
            return [(change.kind, (key, f["name"], f["username"], f["telegram_id"] is not None,
                                   at))]
        case "Player.PreferencesSet":
            return [(change.kind, (key, f["language"], list(f["notices"]), at))]
        case "Player.RequestSent" | "Player.RequestReceived" | "Player.FriendAdded" | \
                "Player.PlayerBlocked":
            return [(change.kind, (key, f["other"], at))]
        case "Player.RequestDropped":
            return [(change.kind, (key, f["other"], ["incoming", "outgoing"]))]
        case "Player.FriendRemoved":
            return [(change.kind, (key, f["other"], ["friend"]))]
        case "Player.PlayerUnblocked":
            return [(change.kind, (key, f["other"], ["blocked"]))]
        case "Group.Created":
            return [
                (change.kind, (key, f["name"], f["open"], change.version, at)),
                ("Group.Created.owner", (key, f["owner"], f["owner_name"], at)),
            ]
        case "Group.JoinRequested" | "Group.MemberJoined":
            return [(change.kind, (key, f["account"], f["name"], at))]
        case "Group.JoinDeclined" | "Group.MemberLeft":
            return [(change.kind, (key, f["account"]))]
        case "Group.RoleSet":
            return [(change.kind, (key, f["account"], f["role"]))]
        case "Group.Changed":
            return [(change.kind, (key, f["name"], f["open"]))]
    return []


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class SocialView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)
        self._sql = {kind: sql.format(s=self._s).rstrip("; ") for kind, sql in _SQL.items()}

    async def write(self, conn: asyncpg.Connection, changes: list[SocialChange]) -> None:
        for change in changes:
            for kind, args in _args(change):
                await conn.execute(self._sql[kind], *args)
            if change.kind.startswith("Group.") and change.kind != "Group.Created":
                await conn.execute(
                    f"UPDATE {self._s}.billiards_groups SET version = $2 WHERE group_id = $1",
                    change.aggregate_id, change.version,
                )

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            f"TRUNCATE {self._s}.billiards_players, {self._s}.billiards_friends, "
            f"{self._s}.billiards_groups, {self._s}.billiards_group_members, "
            f"{self._s}.billiards_group_requests"
        )

    # -- reads ------------------------------------------------------------------------------------

    async def find_player(
        self, *, account: str | None = None, code: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any] | None:
        if account is not None:
            where, arg = "account = $1", account
        elif code is not None:
            where, arg = "share_code = $1", code
        else:
            where, arg = "username = $1", (username or "").removeprefix("@").lower()
        row = await self._pool.fetchrow(
            f"SELECT account, name, username FROM {self._s}.billiards_players WHERE {where} "
            "ORDER BY updated_at DESC LIMIT 1", arg,
        )
        return None if row is None else dict(row)

    async def list_friends(self, account: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"SELECT f.other AS account, f.state, f.since, p.name, p.username "
            f"FROM {self._s}.billiards_friends f LEFT JOIN {self._s}.billiards_players p "
            "ON p.account = f.other WHERE f.account = $1 ORDER BY f.state, p.name LIMIT 2000",
            account,
        )
        return [
            {**dict(row), "since": row["since"].isoformat(), "name": row["name"] or row["account"]}
            for row in rows
        ]

    async def list_groups(self, account: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"SELECT g.group_id, g.name, g.open, m.role, (SELECT count(*) FROM "
            f"{self._s}.billiards_group_members c WHERE c.group_id = g.group_id) AS members "
            f"FROM {self._s}.billiards_group_members m JOIN {self._s}.billiards_groups g "
            "ON g.group_id = m.group_id WHERE m.account = $1 ORDER BY g.name LIMIT 500",
            account,
        )
        return [
            {"id": str(r["group_id"]), "name": r["name"], "open": r["open"], "role": r["role"],
             "members": r["members"]}
            for r in rows
        ]

    async def find_group(self, group_id: UUID, viewer: str | None) -> dict[str, Any] | None:
        async with self._pool.acquire() as conn:
            group = await conn.fetchrow(
                f"SELECT group_id, name, open, version FROM {self._s}.billiards_groups "
                "WHERE group_id = $1", group_id,
            )
            if group is None:
                return None
            members = await conn.fetch(
                f"SELECT account, name, role FROM {self._s}.billiards_group_members "
                "WHERE group_id = $1 ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' "
                "THEN 1 ELSE 2 END, name", group_id,
            )
            requests = await conn.fetch(
                f"SELECT account, name FROM {self._s}.billiards_group_requests "
                "WHERE group_id = $1 ORDER BY at", group_id,
            )
        role = next((m["role"] for m in members if m["account"] == viewer), None)
        return {
            "id": str(group["group_id"]), "name": group["name"], "open": group["open"],
            "version": group["version"], "role": role,
            "asked": any(r["account"] == viewer for r in requests),
            "members": [dict(m) for m in members],
            "requests": [dict(r) for r in requests] if role in ("owner", "admin") else [],
        }

    async def group_feed(self, group_id: UUID, limit: int = 30) -> list[dict[str, Any]]:
        """The group's matches, newest first: played with a group template, or by two or more
        of its members."""
        rows = await self._pool.fetch(
            f"SELECT m.match_id, m.template_name, m.players::text AS players, "
            f"m.finished::text AS finished, m.created_at "
            f"FROM {self._s}.billiards_matches m WHERE m.template_id IN (SELECT template_id "
            f"FROM {self._s}.billiards_templates WHERE owner = $2) OR (SELECT count(*) "
            "FROM jsonb_array_elements(m.players) p WHERE p->>'account' IN (SELECT account "
            f"FROM {self._s}.billiards_group_members WHERE group_id = $1)) >= 2 "
            "ORDER BY m.created_at DESC LIMIT $3",
            group_id, group_owner_key(group_id), limit,
        )


        return [
            {"match_id": str(r["match_id"]), "template": r["template_name"],
             "players": msgspec.json.decode(r["players"]),
             "finished": None if r["finished"] is None else msgspec.json.decode(r["finished"]),
             "created_at": r["created_at"].isoformat()}
            for r in rows
        ]


class SocialReadModel:
    name = "billiards_social"
    topics = SocialProjection.topics

    def __init__(self, view: SocialView) -> None:
        self.view = view
        self.projection = SocialProjection()

    async def load(self) -> None:
        self.projection = SocialProjection()

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        self.projection = SocialProjection()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        await self.view.write(conn, self.projection.collect())
        return None
