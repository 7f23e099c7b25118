import asyncio
import itertools
import logging

import asyncpg
import httpx
import pytest
import pytest_asyncio
from eventsourcing.utils import get_topic

from api.app import build, create_app
from api.canvas.telegram_bot import NEWGAME_USAGE
from commands.canvas.wire import CreateCanvas
from domain.canvas import Canvas
from tests.integration.conftest import stop, until
from tests.support.logged_secrets import secret
from tests.support.signing import BOT_TOKEN
from tests.support.telegram_bot_api import BotApiStandIn

SECRET = secret("webhook-secret-0123456789")
ADMIN_CHAT = -1001234567890
PLAYER_CHAT = 555
BOT_NAME = "PixelWarsBot"
_update_ids = itertools.count(10_000)


@pytest.fixture
def bot_api():
    stand_in = BotApiStandIn()
    yield stand_in
    stand_in.close()


async def node(make_settings, bot_api, **telegram):
    settings = await make_settings(
        telegram={
            "bot_token": BOT_TOKEN,
            "api_url": bot_api.url,
            "webhook_secret": SECRET,
            "admin_chats": f"42, {ADMIN_CHAT}",
            "bot_username": BOT_NAME,
        }
        | telegram,
        rate_ip_per_s=0,
    )
    return await build(settings)


@pytest_asyncio.fixture
async def running(make_settings, bot_api):
    parts = await node(make_settings, bot_api)
    yield parts
    await stop(parts)


def http_for(parts) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(parts.settings, node=parts))
    return httpx.AsyncClient(transport=transport, base_url="http://tessera.test")


@pytest_asyncio.fixture
async def http(running):
    async with http_for(running) as client:
        yield client


def an_update(text, *, chat_id=PLAYER_CHAT, chat_type="private", update_id=None):
    """An Update as Telegram sends it, with fields the bot does not read."""
    return {
        "update_id": next(_update_ids) if update_id is None else update_id,
        "message": {
            "message_id": 77,
            "date": 1_760_000_000,
            "from": {"id": 9001, "is_bot": False, "first_name": "Ann", "username": "ann"},
            "chat": {"id": chat_id, "type": chat_type, "title": "Pixel admins"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


async def post_update(http, update, *, secret=SECRET):
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    return await http.post("/api/telegram/webhook", json=update, headers=headers)


async def command(http, text, **where):
    response = await post_update(http, an_update(text, **where))
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}


async def a_current_canvas(parts, http, *, title="Spring", width=32, height=16):
    canvas = await asyncio.to_thread(
        parts["canvas"].canvases.create_canvas,
        CreateCanvas(width=width, height=height, palette=["#ffffff", "#000000"], title=title),
    )

    async def is_current():
        response = await http.get("/api/canvas/current")
        return response.status_code == 200 and response.json()["id"] == str(canvas.id)

    await until(is_current)
    return canvas


async def canvas_events(settings, event_class) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetchval(
            f'SELECT count(*) FROM "{settings.schema}".canvases_events WHERE topic = $1',
            get_topic(event_class),
        )
    finally:
        await conn.close()


async def test_a_wrong_or_missing_secret_is_refused_and_changes_nothing(http, running, bot_api):
    await a_current_canvas(running, http)
    clear = an_update("/clear", chat_id=ADMIN_CHAT)
    for presented in ("not-the-secret", SECRET + "x", "", None):
        response = await post_update(http, clear, secret=presented)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_secret"
    assert bot_api.sent == []
    assert await canvas_events(running.settings, Canvas.Cleared) == 0


async def test_the_webhook_is_off_without_a_configured_secret(make_settings, bot_api):
    parts = await node(make_settings, bot_api, webhook_secret="")
    try:
        async with http_for(parts) as http:
            response = await post_update(http, an_update("/status"))
            assert response.status_code == 404
            assert response.json()["error"] == "not_found"
    finally:
        await stop(parts)
    assert bot_api.sent == []


async def test_status_tells_anyone_about_the_current_game(http, running, bot_api):
    await a_current_canvas(running, http, title="Spring", width=32, height=16)
    await command(http, f"/status@{BOT_NAME}")
    [reply] = bot_api.sent
    assert reply["chat_id"] == PLAYER_CHAT
    assert reply["reply_parameters"]["message_id"] == 77
    text = reply["text"]
    assert "“Spring” (open)" in text
    assert "32×16" in text and "version 1" in text and "season 1" in text
    assert "Players: 0 playing, 0 queued" in text


async def test_status_without_any_canvas_says_so(http, bot_api):
    await command(http, "/status")
    assert bot_api.texts() == ["No game yet."]


async def test_clear_from_an_admin_chat_starts_a_new_season(http, running, bot_api):
    canvas = await a_current_canvas(running, http)
    await command(http, "/clear", chat_id=ADMIN_CHAT, chat_type="supergroup")
    [reply] = bot_api.texts(ADMIN_CHAT)
    assert reply.startswith("Cleared “Spring”")

    async def season():
        return (await http.get(f"/api/canvas/{canvas.id}")).json()["season"] == 2

    await until(season)


async def test_clear_from_another_chat_is_refused(http, running, bot_api):
    await a_current_canvas(running, http)
    await command(http, "/clear")
    assert bot_api.texts(PLAYER_CHAT) == ["Not allowed: /clear works only in the admins' chats."]
    await command(http, "/newgame 10 10")
    assert "Not allowed" in bot_api.texts(PLAYER_CHAT)[-1]
    assert await canvas_events(running.settings, Canvas.Cleared) == 0
    assert await canvas_events(running.settings, Canvas.Created) == 1


async def test_newgame_creates_a_canvas_that_becomes_current(http, running, bot_api):
    previous = await a_current_canvas(running, http)
    await command(http, "/newgame 64 48", chat_id=ADMIN_CHAT)
    [reply] = bot_api.texts(ADMIN_CHAT)
    assert "Pixel Wars 64×48" in reply and "The previous game, “Spring”, is closed." in reply

    async def current():
        response = await http.get("/api/canvas/current")
        body = response.json()
        return response.status_code == 200 and body["id"] != str(previous.id) and body

    board = await until(current)
    assert (board["width"], board["height"]) == (64, 48)
    assert board["id"] in reply
    assert len(board["palette"]) == 32 and board["palette"][0] == "#ffffff"

    async def previous_closed():
        return (await http.get(f"/api/canvas/{previous.id}")).json()["is_open"] is False

    await until(previous_closed)


@pytest.mark.parametrize(
    "args", ["", "64", "0 48", "64 0", "4097 10", "abc 5", "-1 5", "64 48 2", "1.5 2", "６４ 48"]
)
async def test_newgame_with_a_bad_size_replies_usage_and_creates_nothing(
    http, running, bot_api, args
):
    await command(http, f"/newgame {args}", chat_id=ADMIN_CHAT)
    assert bot_api.texts(ADMIN_CHAT) == [NEWGAME_USAGE]
    assert await canvas_events(running.settings, Canvas.Created) == 0


async def test_a_retried_update_is_handled_once(http, running, bot_api):
    await a_current_canvas(running, http)
    clear = an_update("/clear", chat_id=ADMIN_CHAT)
    for _ in range(3):
        response = await post_update(http, clear)
        assert response.status_code == 200
    assert len(bot_api.sent) == 1
    assert await canvas_events(running.settings, Canvas.Cleared) == 1


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"update_id": "seven"}', b'{"message": {"message_id": 1}}', b""],
)
async def test_what_is_not_an_update_is_a_bad_request(http, bot_api, body):
    response = await http.post(
        "/api/telegram/webhook",
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_update"
    assert bot_api.sent == []


async def test_an_unknown_command_gets_help_and_group_chatter_gets_nothing(http, bot_api):
    await command(http, "/dance")
    assert bot_api.texts()[0].startswith("Unknown command /dance.")
    await command(http, "nice board everyone", chat_id=ADMIN_CHAT, chat_type="group")
    await command(http, "/status@SomeOtherBot", chat_id=ADMIN_CHAT, chat_type="group")
    assert len(bot_api.sent) == 1


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(f"{record.name}: {record.getMessage()}")


async def test_a_refused_reply_is_logged_without_the_token(make_settings, bot_api):
    wrong_token = "999999:WRONG-token-abcdefghijklmnopqrstu"
    parts = await node(make_settings, bot_api, bot_token=wrong_token)
    records, root = Records(), logging.getLogger()
    try:
        async with http_for(parts) as http:  # the app configures logging: listen after it
            level = root.level
            root.addHandler(records)
            root.setLevel(logging.DEBUG)
            try:
                await command(http, "/status")
            finally:
                root.removeHandler(records)
                root.setLevel(level)
    finally:
        await stop(parts)
    assert bot_api.sent == [] and bot_api.refused == 1
    logged = "\n".join(records.lines)
    assert "could not reply in chat 555: sendMessage: 401 Unauthorized" in logged
    assert "/bot<token>/sendMessage" in logged  # httpx's own request log, masked
    assert wrong_token not in logged and "WRONG-token" not in logged
