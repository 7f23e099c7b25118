"""Notifications through a loopback Bot API on real PostgreSQL and NATS: the outbox projection
turns events into notices and its sender sends each once, within Telegram's limits."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest_asyncio

from api.app import Node, build, create_app
from infra.settings import Settings
from infra.spine.readmodels import quote_ident, set_position
from tests.integration.billiards.helpers import a_match, as_user
from tests.integration.billiards.social_helpers import a_profile, befriend
from tests.integration.conftest import stop, until
from tests.support.signing import BOT_TOKEN
from tests.support.telegram_bot_api import BotApiStandIn

ADMIN = {"X-Dev-User": "boss", "X-Dev-Roles": "admin"}
ANN, BOB, CAT = 1001, 1002, 1003
WEB_APP = "https://t.example/billiards"
SECRET = "webhook-secret-for-tests"
RATE_PER_S, CHAT_INTERVAL_S = 10, 0.2
JITTER_S = 0.05
"""Sends overlap: each starts on its slot, but may reach the Bot API later (a loaded machine
delayed one by 20 ms). Two sends in one slot would still arrive 0 s apart."""


@pytest_asyncio.fixture
async def bot_api() -> AsyncIterator[BotApiStandIn]:
    stand_in = BotApiStandIn(delay_s=0.25)  # a round trip to Telegram: sends must overlap
    yield stand_in
    stand_in.close()


@pytest_asyncio.fixture
async def node(
    make_settings: Callable[..., Awaitable[Settings]], bot_api: BotApiStandIn
) -> AsyncIterator[Node]:
    settings = await make_settings(
        telegram={"bot_token": BOT_TOKEN, "api_url": bot_api.url, "webhook_secret": SECRET},
        billiards={"web_app_url": WEB_APP, "notify_chat_interval_s": CHAT_INTERVAL_S,
                   "notify_rate_per_s": RATE_PER_S},
        rate_ip_per_s=0,
        identity={"rate_account_per_s": 0},
    )
    running = await build(settings)
    yield running
    await stop(running)


@pytest_asyncio.fixture
async def http(node: Node) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(node.settings, node=node))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as client:
        yield client


async def a_club_calling(http: httpx.AsyncClient, *users: str) -> str:
    created = await http.post(
        "/api/billiards/clubs",
        json={"name": "Artel", "tables": [{"id": "t1", "name": "Table 1", "game": "american"}]},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    club_id: str = created.json()["id"]
    for user in users:
        joined = await http.post(f"/api/billiards/clubs/{club_id}/queue",
                                 json={"name": user.title(), "game": "american"},
                                 headers=as_user(user))
        assert joined.status_code == 200, joined.text
    return club_id


async def ask(http: httpx.AsyncClient, user: str, other: str) -> None:
    asked = await http.post("/api/billiards/friends/requests", json={"account": other},
                            headers=as_user(user))
    assert asked.status_code == 200, asked.text


def sent_to(bot_api: BotApiStandIn, chat: int) -> list[dict[str, Any]]:
    return [body for body in bot_api.sent if body["chat_id"] == chat]


async def notices(http: httpx.AsyncClient, user: str) -> list[dict[str, Any]]:
    answer = await http.get("/api/billiards/me/notices", headers=as_user(user))
    assert answer.status_code == 200, answer.text
    listed: list[dict[str, Any]] = answer.json()
    return listed


async def test_a_queue_call_sends_one_message_through_a_projection_restarted_mid_batch(
    node: Node, http: httpx.AsyncClient, bot_api: BotApiStandIn
):
    runner = node.runner("billiards_outbox")
    view = runner.model.view  # type: ignore[attr-defined]
    write = view.write
    crashes = []

    async def crash_once_after_writing(conn: Any, changes: list[Any]) -> int:
        added: int = await write(conn, changes)
        if added and not crashes:
            crashes.append(added)
            raise ConnectionResetError("the projection's process died mid-batch")
        return added

    view.write = crash_once_after_writing
    await a_profile(http, "ann", telegram_id=ANN)
    await a_profile(http, "bob", telegram_id=BOB)
    club_id = await a_club_calling(http, "ann", "bob")

    await until(lambda: _all_sent(bot_api, [ANN, BOB]))
    assert crashes, "the batch with the notices failed once"
    (message,) = sent_to(bot_api, ANN)
    assert "Table 1" in message["text"] and "Artel" in message["text"]
    (row,) = message["reply_markup"]["inline_keyboard"]
    assert row[0]["web_app"] == {"url": f"{WEB_APP}/club/{club_id}"}

    # The whole projection over again, from its first event, in a new runner and sender.
    await runner.stop()
    async with node.pool.acquire() as conn:
        await set_position(conn, node.settings.schema, runner.model.name, 0)
    await runner.start()
    await until(lambda: _caught_up(node, runner))
    await ask(http, "bob", "ann")
    await until(lambda: _some(sent_to(bot_api, ANN)[1:]))
    assert [len(sent_to(bot_api, chat)) for chat in (ANN, BOB)] == [2, 1]
    assert "Bob" in sent_to(bot_api, ANN)[1]["text"]


async def _all_sent(bot_api: BotApiStandIn, chats: list[int]) -> bool:
    return all(sent_to(bot_api, chat) for chat in chats)


async def _some(items: list[Any]) -> bool:
    return bool(items)


async def _caught_up(node: Node, runner: Any) -> bool:
    last = await node.pool.fetchval(
        f"SELECT max(notification_id) FROM {quote_ident(node.settings.schema)}.billiards_events "
        "WHERE topic = ANY($1::text[])", list(runner.model.topics),
    )
    return bool(runner.position >= last)


async def test_a_notice_interrupted_while_sending_is_not_sent_again(
    node: Node, http: httpx.AsyncClient, bot_api: BotApiStandIn
):
    await a_profile(http, "ann", telegram_id=ANN)
    await a_profile(http, "bob", telegram_id=BOB)
    runner = node.runner("billiards_outbox")
    await runner.stop()  # and its sender
    model: Any = runner.model
    sender, model.sender = model.sender, None
    await ask(http, "bob", "ann")
    await runner.start()  # the projection writes the notice; no sender sends it
    schema = quote_ident(node.settings.schema)
    await until(lambda: _some_rows(node, f"SELECT key FROM {schema}.billiards_outbox"))
    # as if a sender had claimed it and died before it heard Telegram's answer
    await node.pool.execute(f"UPDATE {schema}.billiards_outbox SET state = 'sending'")
    model.sender = sender
    sender.start()
    (notice,) = await until(lambda: _dropped(http, "ann"))
    assert "may have been sent" in notice["reason"]
    assert sent_to(bot_api, ANN) == []


async def _in_state(http: httpx.AsyncClient, user: str, state: str) -> list[dict[str, Any]]:
    return [n for n in await notices(http, user) if n["state"] == state]


async def _some_rows(node: Node, sql: str) -> bool:
    return bool(await node.pool.fetch(sql))


async def _dropped(http: httpx.AsyncClient, user: str) -> list[dict[str, Any]]:
    return [n for n in await notices(http, user) if n["state"] == "dropped"]


async def test_a_429_is_retried_after_its_retry_after(
    node: Node, http: httpx.AsyncClient, bot_api: BotApiStandIn
):
    await a_profile(http, "ann", telegram_id=ANN)
    await a_profile(http, "bob", telegram_id=BOB)
    bot_api.refuse(ANN, 429, retry_after=1)
    await ask(http, "bob", "ann")
    await until(lambda: _all_sent(bot_api, [ANN]))
    calls = [(at, status) for at, body, status in bot_api.calls if body["chat_id"] == ANN]
    assert [status for _, status in calls] == [429, 200]
    assert calls[1][0] - calls[0][0] >= 1.0
    (notice,) = await until(lambda: _in_state(http, "ann", "sent"))
    assert notice["kind"] == "friend_request"


async def test_a_403_stops_sending_to_that_chat(
    node: Node, http: httpx.AsyncClient, bot_api: BotApiStandIn
):
    for user, chat in (("ann", ANN), ("bob", BOB)):
        await a_profile(http, user, telegram_id=chat)
    bot_api.refuse(ANN, 403)
    await befriend(http, "bob", "ann")  # a friend request: refused, the user blocked the bot
    await until(lambda: _dropped(http, "ann"))
    match = await a_match(http)  # ann's match; bob invites her to it
    invited = await http.post(
        "/api/billiards/friends/invitations",
        json={"friend": "ann", "match_id": match["id"], "invite": match["invite"]},
        headers=as_user("bob"),
    )
    assert invited.status_code == 204, invited.text
    dropped = await until(lambda: _count(_dropped(http, "ann"), 2))
    assert {n["kind"] for n in dropped} == {"friend_request", "match_invite"}
    assert all("blocked the bot" in n["reason"] for n in dropped)
    assert [status for _, body, status in bot_api.calls if body["chat_id"] == ANN] == [403]

    await bot_command(http, "/start", ANN)  # she unblocked the bot and started it again
    await a_profile(http, "cat", telegram_id=CAT)
    await ask(http, "cat", "ann")
    await until(lambda: _count(_in_state(http, "ann", "sent"), 1))


async def _count(items: Awaitable[list[Any]], n: int) -> list[Any] | None:
    found = await items
    return found if len(found) == n else None


async def test_a_player_who_turned_a_kind_off_does_not_get_it(
    node: Node, http: httpx.AsyncClient, bot_api: BotApiStandIn
):
    for user, chat in (("ann", ANN), ("bob", BOB), ("cat", CAT)):
        await a_profile(http, user, telegram_id=chat)
    turned_off = await http.put("/api/billiards/me/settings",
                                json={"language": "en", "notices": ["table_ready"]},
                                headers=as_user("ann"))
    assert turned_off.status_code == 200, turned_off.text
    await ask(http, "bob", "ann")
    await ask(http, "bob", "cat")
    await until(lambda: _all_sent(bot_api, [CAT]))
    (notice,) = await until(lambda: _dropped(http, "ann"))
    assert "turned" in notice["reason"]
    assert sent_to(bot_api, ANN) == []


async def test_a_player_is_found_by_his_telegram_username(http: httpx.AsyncClient):
    await a_profile(http, "ann")
    cat = await a_profile(http, "cat", telegram_id=CAT)
    assert cat["username"] == "cat_tg" and cat["telegram"] is True

    async def found() -> Any:
        answer = await http.post("/api/billiards/friends/find", json={"username": "@Cat_TG"},
                                 headers=as_user("ann"))
        return answer.status_code == 200 and answer.json()

    assert (await until(found))["account"] == "cat"


async def test_the_weekly_summary_counts_the_weeks_matches_and_is_sent_once(
    node: Node, http: httpx.AsyncClient, bot_api: BotApiStandIn
):
    for user, chat in (("ann", ANN), ("bob", BOB)):
        await a_profile(http, user, telegram_id=chat)
    notifier = node.runner("billiards_outbox").model.sender  # type: ignore[attr-defined]
    notifier.rating_change = lambda match_id, player: 12.5 if player == "ann" else None
    match = await a_match(http, guests=("Bob",))
    joined = await http.post(f"/api/billiards/matches/{match['id']}/join",
                             json={"invite": match["invite"], "name": "Bob", "seat": 1},
                             headers=as_user("bob"))
    assert joined.status_code == 200, joined.text
    shot = await http.post(f"/api/billiards/matches/{match['id']}/shots",
                           json={"key": "k1", "shooter": 0, "balls": 8}, headers=as_user("ann"))
    assert shot.json()["board"]["finished"] is not None
    await until(lambda: _count(_in_state(http, "bob", "sent"), 1))  # bob's result: projected
    assert await until(lambda: notifier.add_weekly("2026-W49")) == 2
    assert await notifier.add_weekly("2026-W49") == 0
    await until(lambda: _count(_in_state(http, "ann", "sent"), 2))
    await until(lambda: _count(_in_state(http, "bob", "sent"), 2))
    weekly = [m["text"] for m in sent_to(bot_api, ANN) if "week" in m["text"].lower()
              or "недел" in m["text"]]
    assert weekly == ["Ваша неделя: партий — 1, побед — 1."]
    results = [m["text"] for chat in (ANN, BOB) for m in sent_to(bot_api, chat)
               if "окончена" in m["text"]]
    assert results == ["Партия окончена (Американка): вы 1-й из 2, очки 8. Рейтинг: +12.5.",
                       "Партия окончена (Американка): вы 2-й из 2, очки 0."]
    bob_weekly = [m["text"] for m in sent_to(bot_api, BOB) if "недел" in m["text"]]
    assert bob_weekly == ["Ваша неделя: партий — 1, побед — 0."]


_update_ids = itertools.count(1)


async def bot_command(http: httpx.AsyncClient, text: str, user: int) -> None:
    update = {
        "update_id": next(_update_ids),
        "message": {"message_id": 5, "date": 1_760_000_000, "text": text,
                    "from": {"id": user, "is_bot": False, "first_name": "Ann"},
                    "chat": {"id": user, "type": "private"}},
    }
    answer = await http.post("/api/telegram/webhook", json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert answer.status_code == 200, answer.text


async def test_the_bot_opens_the_mini_app_and_tells_the_queue_and_stats(
    node: Node, http: httpx.AsyncClient, bot_api: BotApiStandIn
):
    await a_profile(http, "ann", telegram_id=ANN)
    club_id = await a_club_calling(http, "ann")

    await bot_command(http, f"/start club-{club_id}", ANN)
    (start,) = sent_to(bot_api, ANN)
    assert start["reply_markup"]["inline_keyboard"][0][0]["web_app"] == {
        "url": f"{WEB_APP}/club/{club_id}"}

    async def known() -> bool:  # the outbox has learnt ann's chat and her club
        await bot_command(http, "/queue", ANN)
        return "№1" in sent_to(bot_api, ANN)[-1]["text"]

    assert await until(known)
    assert "Table" not in sent_to(bot_api, ANN)[-1]["text"]
    await bot_command(http, "/stats", ANN)
    assert sent_to(bot_api, ANN)[-1]["text"].startswith("Ваши партии: 0, победы: 0")


async def test_sending_keeps_to_one_message_a_chat_interval_and_the_overall_rate(
    node: Node, http: httpx.AsyncClient, bot_api: BotApiStandIn
):
    users = {"ann": ANN, "bob": BOB, "cat": CAT, "dan": 1004, "eve": 1005}
    for user, chat in users.items():
        await a_profile(http, user, telegram_id=chat)
    for other in ("bob", "cat", "dan", "eve"):  # four requests to ann
        await ask(http, other, "ann")
    for other in ("cat", "dan", "eve"):  # and one to each of three others
        await ask(http, "bob", other)
    await until(lambda: _count(_all_calls(bot_api), 7))
    times = sorted(at for at, _, _ in bot_api.calls)
    assert all(b - a >= 1 / RATE_PER_S - JITTER_S for a, b in itertools.pairwise(times))
    # Over four slots a late arrival counts once: the overall rate itself holds.
    assert all(b - a >= 4 / RATE_PER_S - JITTER_S for a, b in zip(times, times[4:]))
    to_ann = sorted(at for at, body, _ in bot_api.calls if body["chat_id"] == ANN)
    assert len(to_ann) == 4
    assert all(b - a >= CHAT_INTERVAL_S - JITTER_S for a, b in itertools.pairwise(to_ann))
    assert bot_api.most_at_once > 1  # a round trip (0.25 s) is longer than a slot (0.1 s)


async def _all_calls(bot_api: BotApiStandIn) -> list[Any]:
    return list(bot_api.calls)
