"""The billiards read models in PostgreSQL (matches, templates) and the read models the
projection runner drives. A match's board is folded from its stored shots when read
(`domain.billiards.board`), the way the aggregate builds it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from domain.billiards.board import replay, scoreboard
from domain.billiards.rules import Rules
from infra.spine.read_model import AfterCommit
from infra.spine.readmodels import quote_ident
from projections.billiards.matches import MatchChange, MatchChanged, MatchCreated, MatchesProjection
from projections.billiards.templates import TemplateChanged, TemplatesProjection
from projections.recorded import Recorded

_DDL = """
CREATE TABLE IF NOT EXISTS {s}.billiards_matches (
    match_id uuid PRIMARY KEY,
    version bigint NOT NULL,
    template_id uuid NOT NULL,
    template_version int NOT NULL,
    template_name text NOT NULL,
    rules jsonb NOT NULL,
    players jsonb NOT NULL,
    seat_order jsonb NOT NULL,
    creator text NOT NULL,
    scorekeeper text NOT NULL,
    table_id text,
    shots jsonb NOT NULL DEFAULT '[]',
    finished jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS billiards_matches_table ON {s}.billiards_matches (table_id, created_at)
    WHERE table_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS {s}.billiards_templates (
    template_id uuid PRIMARY KEY,
    version bigint NOT NULL,
    owner text NOT NULL,
    name text NOT NULL,
    base text NOT NULL,
    template_version int NOT NULL,
    params jsonb NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS billiards_templates_owner ON {s}.billiards_templates (owner);
"""

_json = msgspec.json.Encoder()


def _j(value: Any) -> str:
    return _json.encode(value).decode()


async def migrate(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(_DDL.format(s=quote_ident(schema)))


class MatchesView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)

    async def write(self, conn: asyncpg.Connection, changes: list[MatchChange]) -> None:
        t = f"{self._s}.billiards_matches"
        for change in changes:
            if isinstance(change, MatchCreated):
                await conn.execute(
                    f"INSERT INTO {t} (match_id, version, template_id, template_version, "
                    "template_name, rules, players, seat_order, creator, scorekeeper, table_id, "
                    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, "
                    "$8::jsonb, $9, $9, $10, $11, $11) ON CONFLICT (match_id) DO NOTHING",
                    change.match_id, change.version, change.template_id,
                    change.template_version, change.template_name, _j(change.rules),
                    _j(change.players), _j(change.order), change.creator, change.table_id,
                    change.at,
                )
                continue
            assignment, args = _assignment(change)
            await conn.execute(
                f"UPDATE {t} SET version = $2, updated_at = $3{assignment} "
                "WHERE match_id = $1 AND version < $2",
                change.match_id, change.version, change.at, *args,
            )

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {self._s}.billiards_matches")

    async def find_board(self, match_id: UUID) -> dict[str, Any] | None:
        row = await self._pool.fetchrow(
            f"SELECT match_id, version, template_id, template_version, template_name, "
            "rules::text, players::text, seat_order::text, scorekeeper, table_id, shots::text, "
            f"finished::text FROM {self._s}.billiards_matches WHERE match_id = $1",
            match_id,
        )
        return None if row is None else board_of(row)

    async def list_for_table(self, table_id: str, limit: int = 1) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"SELECT match_id, version, template_id, template_version, template_name, "
            "rules::text, players::text, seat_order::text, scorekeeper, table_id, shots::text, "
            f"finished::text FROM {self._s}.billiards_matches WHERE table_id = $1 "
            "ORDER BY created_at DESC LIMIT $2",
            table_id, limit,
        )
        return [board_of(row) for row in rows]


_APPEND_SEAT = (
    ", seat_order = seat_order || to_jsonb(jsonb_array_length(players)), "
    "players = players || jsonb_build_array($4::jsonb)"
)
"""A new seat: the next index joins the order (every expression reads the row before)."""


def _assignment(change: MatchChanged) -> tuple[str, list[Any]]:
    fields = change.fields
    match change.kind:
        case "PlayerJoined":
            seat = {"name": fields["name"], "account": fields["account"]}
            if fields["seat"] is None:
                return _APPEND_SEAT, [_j(seat)]
            return ", players = jsonb_set(players, ARRAY[$5::text], $4::jsonb)", [
                _j(seat), str(fields["seat"]),
            ]
        case "OrderSet":
            return ", seat_order = $4::jsonb", [_j(fields["order"])]
        case "ScorekeeperChanged":
            return ", scorekeeper = $4", [fields["account"]]
        case "ShotRecorded":
            return ", shots = shots || jsonb_build_array($4::jsonb)", [_j(fields["shot"])]
        case "ShotUndone":
            return ", shots = shots - (jsonb_array_length(shots) - 1), finished = NULL", []
        case "Finished":
            finished = {k: fields[k] for k in ("reason", "winner", "standings")}
            return ", finished = $4::jsonb", [_j(finished)]
    return "", []


def board_of(row: asyncpg.Record) -> dict[str, Any]:
    """The scoreboard of a stored row: its shots folded by the rules it was created with."""
    rules = Rules.from_dict(msgspec.json.decode(row["rules"]))
    shots = msgspec.json.decode(row["shots"])
    finished = msgspec.json.decode(row["finished"]) if row["finished"] is not None else None
    return scoreboard(
        match_id=str(row["match_id"]),
        version=row["version"],
        rules=rules,
        template_id=str(row["template_id"]),
        template_version=row["template_version"],
        template_name=row["template_name"],
        players=msgspec.json.decode(row["players"]),
        scorekeeper=row["scorekeeper"],
        table_id=row["table_id"],
        table=replay(rules, msgspec.json.decode(row["seat_order"]), shots),
        shots=shots,
        finished=finished,
    )


class MatchesReadModel:
    name = "billiards_matches"
    topics = MatchesProjection.topics

    def __init__(self, view: MatchesView) -> None:
        self.view = view
        self.projection = MatchesProjection()

    async def load(self) -> None:
        self.projection = MatchesProjection()

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        self.projection = MatchesProjection()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        await self.view.write(conn, self.projection.collect())
        return None


class TemplateOut(msgspec.Struct):
    id: UUID
    name: str
    base: str
    version: int
    params: dict[str, Any]
    owner: str | None = None
    built_in: bool = False


class TemplatesView:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)

    async def write(self, conn: asyncpg.Connection, changes: list[TemplateChanged]) -> None:
        t = f"{self._s}.billiards_templates"
        for c in changes:
            match c.kind:
                case "Created":
                    await conn.execute(
                        f"INSERT INTO {t} (template_id, version, owner, name, base, "
                        "template_version, params, updated_at) VALUES ($1, $2, $3, $4, $5, 1, "
                        "$6::jsonb, $7) ON CONFLICT (template_id) DO NOTHING",
                        c.template_id, c.version, c.owner, c.name, c.base, _j(c.params), c.at,
                    )
                case "Edited":
                    await conn.execute(
                        f"UPDATE {t} SET version = $2, name = $3, params = $4::jsonb, "
                        "template_version = template_version + 1, updated_at = $5 "
                        "WHERE template_id = $1 AND version < $2",
                        c.template_id, c.version, c.name, _j(c.params), c.at,
                    )
                case "Deleted":
                    await conn.execute(
                        f"UPDATE {t} SET version = $2, deleted = true, updated_at = $3 "
                        "WHERE template_id = $1 AND version < $2",
                        c.template_id, c.version, c.at,
                    )

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"TRUNCATE {self._s}.billiards_templates")

    async def list_templates(self, owner: str) -> list[TemplateOut]:
        rows = await self._pool.fetch(
            f"SELECT template_id, name, base, template_version, params::text, owner "
            f"FROM {self._s}.billiards_templates WHERE owner = $1 AND NOT deleted "
            "ORDER BY updated_at DESC LIMIT 200",
            owner,
        )
        return [
            TemplateOut(r[0], r[1], r[2], r[3], msgspec.json.decode(r[4]), r[5]) for r in rows
        ]


class TemplatesReadModel:
    name = "billiards_templates"
    topics = TemplatesProjection.topics

    def __init__(self, view: TemplatesView) -> None:
        self.view = view
        self.projection = TemplatesProjection()

    async def load(self) -> None:
        self.projection = TemplatesProjection()

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.view.reset(conn)
        self.projection = TemplatesProjection()

    def apply(self, event: Recorded) -> None:
        self.projection.apply(event)

    async def write(self, conn: asyncpg.Connection) -> AfterCommit | None:
        await self.view.write(conn, self.projection.collect())
        return None
