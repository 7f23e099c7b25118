"""The Mini App's commands on the service's Telegram bot (whose webhook the canvas context
serves, `api.canvas.telegram_bot`): `/start` opens the Mini App (a deep link's payload, e.g.
`match-<id>`, `club-<id>`, `group-<id>`, `add-<code>`, opens that page) and, from one whose chat
had blocked the bot, lets notifications go to that chat again, `/stats` tells the
player's matches and wins, `/queue` where he stands in the queue he last joined. The chat's
player is the one whose Telegram account it is (the outbox's recipients)."""

from __future__ import annotations

import asyncio
import re
from uuid import UUID

import asyncpg

from api.canvas.telegram_bot import ChatCommand, Command, Message, Reply
from commands.billiards.billiards import Billiards
from domain.billiards.errors import ClubNotFound
from infra.spine.readmodels import quote_ident

_PAYLOAD = re.compile(r"^(match|club|group|join|add)-([A-Za-z0-9_-]{4,64})$")
_TEXTS = {
    "start": "Артель Бильярд: партии, очереди в клубах, друзья и группы.",
    "open": "Открыть",
    "unknown": "Откройте приложение, чтобы бот узнал вас.",
    "stats": "Ваши партии: {played}, победы: {won}; за неделю: {week_played} и {week_won}.",
    "no_queue": "Вы не стоите в очереди.",
    "queued": "«{club}»: вы №{position} в очереди ({game}), ждать около {minutes} мин.",
    "called": "«{club}»: ваш стол {table} готов, подтвердите в приложении.",
    "playing": "«{club}»: вы играете за столом {table}.",
}


class BilliardsBot:
    def __init__(self, pool: asyncpg.Pool, schema: str, app: Billiards, web_app_url: str) -> None:
        self._pool = pool
        self._s = quote_ident(schema)
        self._app = app
        self._base = web_app_url.rstrip("/")

    def commands(self) -> dict[str, ChatCommand]:
        return {"start": self.start, "stats": self.stats, "queue": self.queue}

    def _button(self, page: str = "/") -> tuple[str, str] | None:
        return (_TEXTS["open"], self._base + page) if self._base else None

    async def start(self, command: Command, message: Message) -> Reply:
        if message.sender is not None:  # one who blocked the bot and starts it again: notify
            await self._pool.execute(
                f"UPDATE {self._s}.billiards_outbox_recipients SET chat_blocked = false "
                "WHERE chat_id = $1 AND chat_blocked", message.sender.id,
            )
        page = "/"
        found = _PAYLOAD.match(command.args[0]) if command.args else None
        if found is not None:
            page = f"/{found[1]}/{found[2]}"
        return Reply(_TEXTS["start"], self._button(page))

    async def _account(self, message: Message) -> str | None:
        if message.sender is None:
            return None
        account: str | None = await self._pool.fetchval(
            f"SELECT account FROM {self._s}.billiards_outbox_recipients WHERE chat_id = $1",
            message.sender.id,
        )
        return account

    async def stats(self, command: Command, message: Message) -> Reply:
        account = await self._account(message)
        if account is None:
            return Reply(_TEXTS["unknown"], self._button())
        row = await self._pool.fetchrow(
            "SELECT count(*) AS played, count(*) FILTER (WHERE won) AS won, "
            "count(*) FILTER (WHERE recent) AS week_played, "
            "count(*) FILTER (WHERE won AND recent) AS week_won FROM (SELECT "
            "m.updated_at > now() - interval '7 days' AS recent, EXISTS (SELECT 1 FROM "
            "jsonb_array_elements(m.finished->'standings') e WHERE (e->>'place')::int = 1 AND "
            "m.players->((e->>'seat')::int)->>'account' = $1) AS won "
            f"FROM {self._s}.billiards_matches m WHERE m.finished IS NOT NULL "
            "AND m.players @> jsonb_build_array(jsonb_build_object('account', $1::text))) s",
            account,
        )
        return Reply(_TEXTS["stats"].format(**dict(row)), self._button())

    async def queue(self, command: Command, message: Message) -> Reply:
        account = await self._account(message)
        if account is None:
            return Reply(_TEXTS["unknown"], self._button())
        club_id = await self._pool.fetchval(
            f"SELECT value->>'club_id' FROM {self._s}.billiards_outbox_facts WHERE key = $1",
            f"last_club:{account}",
        )
        if club_id is None:
            return Reply(_TEXTS["no_queue"], self._button())
        try:
            club = await asyncio.to_thread(self._app.get_club, UUID(club_id))
        except ClubNotFound:
            return Reply(_TEXTS["no_queue"], self._button())
        view = club.view(self._app.match_minutes)
        page = f"/club/{club_id}"
        for table in view["tables"]:
            if any(entry["account"] == account for entry in table["called"]):
                key = "playing" if table["state"] == "playing" else "called"
                return Reply(_TEXTS[key].format(club=view["name"], table=table["name"]),
                             self._button(page))
        for entry in view["queue"]:
            if entry["account"] == account:
                return Reply(_TEXTS["queued"].format(
                    club=view["name"], position=entry["position"], game=entry["game"],
                    minutes=entry["wait_minutes"]), self._button(page))
        return Reply(_TEXTS["no_queue"], self._button(page))
