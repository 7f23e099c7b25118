"""Sends the outbox's notices through the Telegram Bot API, each at most once.

A notice is claimed (`pending` → `sending`, committed) before it is sent, and marked `sent`
after; a notice found `sending` when the sender starts was interrupted mid-send and may have
gone out, so it is dropped, never sent again. Within Telegram's limits: at most `rate_per_s`
messages a second overall and one per `chat_interval_s` per chat. Sends overlap (up to
`max_in_flight` at once): one at a time, a Bot API round trip of 100 ms would allow 10 a second,
not 30. A 429 is retried after its `retry_after` (and all sending pauses that long); a server or network error that surely sent
nothing is retried with exponential backoff, up to `max_attempts`; a 403 (the user blocked the
bot) drops the notice and every later one for that chat, until the user sends `/start` or saves
his notification settings again; any other refusal drops the notice. Each drop is logged with
its reason and kept in the row.

Once a week (Monday from 09:00 UTC) it adds the weekly summaries to the outbox, keyed by the
week, so they too are sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import msgspec

from infra import tasks
from infra.billiards.notice_texts import render
from infra.botapi import BotApiError
from infra.spine.readmodels import quote_ident

log = logging.getLogger(__name__)

RatingChange = Callable[[str, str], "float | None | Awaitable[float | None]"]
"""`rating_change(match_id, player_id)`: the player's rating change in that match, or None
(the stats context's; None until it is connected)."""

IDLE_S = 5.0
SEND_GRACE_S = 15.0
"""How long a stopping sender waits for the messages it is sending (the Bot API's timeout)."""
WEEKLY_CHECK_S = 600.0


class BotSender(Protocol):
    async def send_message(
        self, chat_id: int, text: str, reply_to_message_id: int | None = None, *,
        web_app: tuple[str, str] | None = None,
    ) -> dict[str, Any]: ...


def week_due(now: datetime) -> str | None:
    """The ISO week whose summary is due at `now` (from its Monday 09:00 UTC)."""
    year, week, weekday = now.isocalendar()
    if weekday == 1 and now.hour < 9:
        return None
    return f"{year}-W{week:02d}"


class Notifier:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        bot: Callable[[], BotSender],
        *,
        base_url: str = "",
        rating_change: RatingChange | None = None,
        rate_per_s: float = 30.0,
        chat_interval_s: float = 1.0,
        max_attempts: int = 8,
        max_backoff_s: float = 300.0,
        max_in_flight: int = 16,
        weekly: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._pool = pool
        self._s = quote_ident(schema)
        self._make_bot = bot
        self._bot: BotSender | None = None
        self._base_url = base_url
        self.rating_change = rating_change
        self._interval = 1.0 / rate_per_s
        self._chat_interval = chat_interval_s
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff_s
        self._weekly = weekly
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._chat_ready: dict[int, float] = {}
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._sending: set[asyncio.Task[None]] = set()
        self._weekly_checked = -WEEKLY_CHECK_S
        self.sent = 0
        self.dropped = 0

    def start(self) -> None:
        """Start sending (again); the Bot API client is made on the first start."""
        if self._bot is None:
            self._bot = self._make_bot()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="notifier")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop taking notices; those being sent are waited for (cut off, each would be
        dropped at the next start as perhaps sent)."""
        await tasks.stop(self._task)
        self._task = None
        if self._sending:
            await asyncio.wait(self._sending, timeout=SEND_GRACE_S)
        bot, self._bot = self._bot, None
        close = getattr(bot, "aclose", None)
        if close is not None:
            await close()

    # -- the loop ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        await self._recover()
        while True:
            try:
                await self._weekly_summaries()
                delay = await self._pass()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("notifier: %s; trying again", error)
                delay = IDLE_S
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)

    async def _recover(self) -> None:
        while True:
            try:
                dropped = await self._pool.fetch(
                    f"UPDATE {self._s}.billiards_outbox SET state = 'dropped', reason = "
                    "'interrupted while sending: it may have been sent' "
                    "WHERE state = 'sending' RETURNING key"
                )
                for row in dropped:
                    log.warning("notice %s dropped: interrupted while sending", row["key"])
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("notifier: %s; trying again", error)
                await asyncio.sleep(IDLE_S)

    async def _pass(self) -> float:
        """Send what is due; returns how long to wait before the next pass."""
        # The oldest due notice of each recipient: one a chat per pass, so a chat with many
        # waiting (at one a second) holds up no other.
        rows = await self._pool.fetch(
            "SELECT * FROM (SELECT DISTINCT ON (o.account) o.key, o.account, o.kind, "
            "o.params::text AS params, o.attempts, o.next_at, o.created_at, r.chat_id, "
            "r.language, r.notices, r.chat_blocked "
            f"FROM {self._s}.billiards_outbox o LEFT JOIN {self._s}.billiards_outbox_recipients r "
            "ON r.account = o.account WHERE o.state = 'pending' AND o.next_at <= now() "
            "ORDER BY o.account, o.next_at, o.created_at) due "
            "ORDER BY next_at, created_at LIMIT 100"
        )
        if not rows:
            due = await self._pool.fetchval(
                f"SELECT EXTRACT(EPOCH FROM min(next_at) - now()) FROM {self._s}.billiards_outbox "
                "WHERE state = 'pending'"
            )
            return IDLE_S if due is None else max(0.01, min(IDLE_S, float(due)))
        waits: list[float] = []
        for row in rows:
            wait = await self._handle(row)
            if wait > 0:
                waits.append(wait)
        if len(waits) == len(rows):
            return min(waits)
        return 0.0

    async def _handle(self, row: asyncpg.Record) -> float:
        """Start sending one notice (or drop it); a positive result: its chat is not ready for
        that long."""
        key, chat_id = row["key"], row["chat_id"]
        if chat_id is None:
            await self._drop(key, "the player has no Telegram chat with the bot")
            return 0.0
        if row["chat_blocked"]:
            await self._drop(key, "the user blocked the bot")
            return 0.0
        notices = row["notices"]
        if notices is not None and row["kind"] not in notices:
            await self._drop(key, "the player turned this kind of notification off")
            return 0.0
        loop = asyncio.get_running_loop()
        ready = self._chat_ready.get(chat_id, 0.0) - loop.time()
        if ready > 0:
            return ready
        await self._in_flight.acquire()
        try:
            await self._slot()
            claimed = await self._pool.execute(
                f"UPDATE {self._s}.billiards_outbox SET state = 'sending', "
                "attempts = attempts + 1 WHERE key = $1 AND state = 'pending'", key,
            )
        except BaseException:
            self._in_flight.release()
            raise
        if not claimed.endswith(" 1"):
            self._in_flight.release()
            return 0.0
        self._chat_ready[chat_id] = loop.time() + self._chat_interval
        task = loop.create_task(self._send(row), name=f"notice {key}")
        self._sending.add(task)
        task.add_done_callback(self._sent)
        return 0.0

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._in_flight.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("notice %s: sending failed", task.get_name(), exc_info=task.exception())

    async def _send(self, row: asyncpg.Record) -> None:
        """Send a claimed notice and record how it went."""
        key, chat_id = row["key"], row["chat_id"]
        params = msgspec.json.decode(row["params"])
        change = await self._rating_change(row["kind"], params, row["account"])
        text, button = render(row["kind"], params, row["account"], row["language"] or "ru",
                              self._base_url, change)
        assert self._bot is not None, "started"
        try:
            await self._bot.send_message(chat_id, text, web_app=button)
        except BotApiError as error:
            await self._failed(key, chat_id, row["attempts"] + 1, error)
            return
        await self._pool.execute(
            f"UPDATE {self._s}.billiards_outbox SET state = 'sent', sent_at = now() "
            "WHERE key = $1", key,
        )
        self.sent += 1

    async def _slot(self) -> None:
        """Wait for the next of the `rate_per_s` sending slots, and past any 429 pause (one
        may come while waiting: a message in flight met it)."""
        loop = asyncio.get_running_loop()
        while True:
            start = max(loop.time(), self._next_slot, self._paused_until)
            self._next_slot = start + self._interval
            await asyncio.sleep(start - loop.time())
            if loop.time() >= self._paused_until:
                return

    async def _rating_change(self, kind: str, params: dict[str, Any], account: str) -> float | None:
        if kind != "match_result" or self.rating_change is None:
            return None
        try:
            change = self.rating_change(params["match_id"], account)
            if inspect.isawaitable(change):
                change = await change
        except Exception:
            log.exception("rating_change failed; the result goes without it")
            return None
        return None if change is None else float(change)

    async def _failed(self, key: str, chat_id: int, attempts: int, error: BotApiError) -> None:
        if error.code == 429:
            wait = error.retry_after if error.retry_after is not None else self._backoff(attempts)
            self._paused_until = asyncio.get_running_loop().time() + wait
            log.info("notice %s: 429, retrying after %.1f s", key, wait)
            await self._retry(key, wait)
        elif error.code == 403:
            await self._drop(key, f"the user blocked the bot ({error})")
            await self._pool.execute(
                f"UPDATE {self._s}.billiards_outbox_recipients SET chat_blocked = true "
                "WHERE chat_id = $1", chat_id,
            )
        elif error.maybe_sent:
            await self._drop(key, f"no answer, it may have been sent ({error})")
        elif error.code is not None and error.code < 500:
            await self._drop(key, f"refused ({error})")
        elif attempts >= self._max_attempts:
            await self._drop(key, f"gave up after {attempts} attempts ({error})")
        else:
            wait = self._backoff(attempts)
            log.info("notice %s: %s; retrying in %.1f s", key, error, wait)
            await self._retry(key, wait)

    def _backoff(self, attempts: int) -> float:
        return float(min(self._max_backoff, 2.0 ** attempts))

    async def _retry(self, key: str, wait: float) -> None:
        await self._pool.execute(
            f"UPDATE {self._s}.billiards_outbox SET state = 'pending', "
            "next_at = now() + make_interval(secs => $2) WHERE key = $1", key, wait,
        )

    async def _drop(self, key: str, reason: str) -> None:
        log.info("notice %s dropped: %s", key, reason)
        self.dropped += 1
        await self._pool.execute(
            f"UPDATE {self._s}.billiards_outbox SET state = 'dropped', reason = $2 "
            "WHERE key = $1 AND state IN ('pending', 'sending')", key, reason,
        )

    # -- the weekly summary -----------------------------------------------------------------------

    async def _weekly_summaries(self) -> None:
        now = time.monotonic()
        if not self._weekly or now - self._weekly_checked < WEEKLY_CHECK_S:
            return
        self._weekly_checked = now
        week = week_due(self._clock())
        if week is not None:
            await self.add_weekly(week)

    async def add_weekly(self, week: str) -> int:
        """The summaries of the 7 days before now, for players who finished a match in them
        and want them; keyed by `week`, so adding them again adds nothing."""
        s = self._s
        status = await self._pool.execute(
            f"INSERT INTO {s}.billiards_outbox (key, account, kind, params) "
            "SELECT 'weekly/' || $1 || '/' || r.account, r.account, 'weekly', "
            "jsonb_build_object('week', $1::text, 'played', count(m.match_id), 'won', "
            "count(m.match_id) FILTER (WHERE EXISTS (SELECT 1 FROM "
            "jsonb_array_elements(m.finished->'standings') e WHERE (e->>'place')::int = 1 AND "
            "m.players->((e->>'seat')::int)->>'account' = r.account))) "
            f"FROM {s}.billiards_outbox_recipients r JOIN {s}.billiards_matches m "
            "ON m.finished IS NOT NULL AND m.updated_at > now() - interval '7 days' "
            "AND m.players @> jsonb_build_array(jsonb_build_object('account', r.account)) "
            "WHERE r.chat_id IS NOT NULL AND NOT r.chat_blocked "
            "AND (r.notices IS NULL OR 'weekly' = ANY(r.notices)) "
            "GROUP BY r.account ON CONFLICT (key) DO NOTHING",
            week,
        )
        added = int(status.rsplit(" ", 1)[1])
        if added:
            self.wake()
        return added
