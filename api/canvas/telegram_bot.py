"""The Telegram bot: a webhook that answers `/status` to anyone and lets the admins' chats clear
the current canvas (`/clear`) or start a new game (`/newgame W H`).

Telegram retries an update until it gets a 200, so each `update_id` is handled once (a bounded
memory of recent ids). Replies go out through the Bot API client before the webhook answers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from typing import NamedTuple, Protocol
from uuid import NAMESPACE_URL, uuid5

import msgspec

from commands.actor import Actor
from commands.canvas import palettes
from commands.canvas.canvases import Canvases
from commands.canvas.wire import ClearCanvas, CloseCanvas, CreateCanvas
from domain.canvas import MAX_SIDE, CanvasError
from infra.botapi import BotApi, BotApiError
from projections.canvas.bitmap import CanvasMeta

log = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"
BOT_ACTOR = Actor(str(uuid5(NAMESPACE_URL, "tessera:telegram-bot")), is_admin=True)
"""Who the bot's commands are recorded as."""

HELP = (
    "Pixel Wars bot.\n"
    "/status – the current game\n"
    "/clear – clear the current canvas (admins)\n"
    "/newgame WIDTH HEIGHT – start a new canvas (admins)"
)
NEWGAME_USAGE = f"Usage: /newgame WIDTH HEIGHT, each a whole number from 1 to {MAX_SIDE}."
_SIDE = re.compile(r"[0-9]{1,4}")
_SIZE = re.compile(r"([0-9]{1,4})\s*[x×]\s*([0-9]{1,4})", re.IGNORECASE)


# -- Telegram's Update, as far as the bot reads it (Telegram adds fields: unknown ones pass) -----


class Chat(msgspec.Struct):
    id: int
    type: str = "private"


class User(msgspec.Struct):
    id: int
    username: str | None = None


class Message(msgspec.Struct):
    message_id: int
    chat: Chat
    sender: User | None = msgspec.field(default=None, name="from")
    text: str | None = None


class Update(msgspec.Struct):
    update_id: int
    message: Message | None = None


UPDATE = msgspec.json.Decoder(Update, strict=True)


class PlayerCounts(Protocol):
    """Who is on a canvas right now: (playing, queued)."""

    def counts(self, canvas: str) -> tuple[int, int]: ...


class Games(Protocol):
    """The canvases as the bot tells of them (`infra.canvas.view.CanvasView`)."""

    async def find_current(self) -> CanvasMeta | None: ...

    async def list_canvases(self) -> list[CanvasMeta]: ...


class Command(NamedTuple):
    name: str
    args: list[str]


class Reply(NamedTuple):
    """A reply with an inline button that opens a Mini App page: `(label, url)`."""

    text: str
    web_app: tuple[str, str] | None = None


ChatCommand = Callable[[Command, Message], Awaitable[str | Reply]]
"""Another context's command on this bot (`TelegramBot.commands`): the Mini App's `/start`."""


def parse_command(text: str, bot_username: str = "") -> Command | None:
    """`/cmd args` or `/cmd@Bot args`; None for plain text or a command meant for another bot."""
    if not text.startswith("/"):
        return None
    head, *args = text.split()
    name, _, mention = head[1:].partition("@")
    if mention and bot_username and mention.lower() != bot_username.lower():
        return None
    return Command(name.lower(), args)


def parse_size(args: list[str]) -> tuple[int, int] | None:
    """`W H` or `WxH`, each side 1 to MAX_SIDE; None otherwise."""
    match args:
        case [width, height] if _SIDE.fullmatch(width) and _SIDE.fullmatch(height):
            size = int(width), int(height)
        case [both] if (pair := _SIZE.fullmatch(both)) is not None:
            size = int(pair[1]), int(pair[2])
        case _:
            return None
    return size if all(1 <= side <= MAX_SIDE for side in size) else None


class RecentIds:
    """The last `capacity` ids seen, oldest forgotten first."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[int, None] = OrderedDict()

    def add(self, value: int) -> bool:
        """Remember `value`; False when it was already remembered."""
        if value in self._ids:
            return False
        self._ids[value] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True


def _describe(meta: CanvasMeta) -> str:
    return f"“{meta.title}”" if meta.title else f"the {meta.width}×{meta.height} canvas"


class TelegramBot:
    def __init__(
        self,
        *,
        api: BotApi,
        canvases: Canvases,
        view: Games,
        admin_chats: Collection[str],
        username: str = "",
        players: PlayerCounts | None = None,
    ) -> None:
        self.api = api
        self.players = players
        self._canvases = canvases
        self._view = view
        self._admin_chats = frozenset(admin_chats)
        self._username = username.lstrip("@")
        self._seen = RecentIds()
        self.commands: dict[str, ChatCommand] = {}
        """Other contexts' commands, by name (they take precedence: `/start` among them)."""

    async def handle(self, update: Update) -> None:
        if not self._seen.add(update.update_id):
            return  # a retry of an update already handled
        message = update.message
        if message is None or not message.text:
            return
        command = parse_command(message.text, self._username)
        if command is None:
            if message.chat.type == "private":  # in groups, chatter is not for the bot
                await self._reply(message, HELP)
            return
        await self._reply(message, await self._run(command, message))

    async def _run(self, command: Command, message: Message) -> str | Reply:
        other = self.commands.get(command.name)
        if other is not None:
            return await other(command, message)
        match command.name:
            case "status":
                return await self._status()
            case "clear" | "newgame" if str(message.chat.id) not in self._admin_chats:
                return f"Not allowed: /{command.name} works only in the admins' chats."
            case "clear":
                return await self._clear()
            case "newgame":
                return await self._new_game(command.args)
            case "start" | "help":
                return HELP
            case _:
                return f"Unknown command /{command.name}.\n\n{HELP}"

    async def _status(self) -> str:
        meta = await self._view.find_current()
        if meta is None:
            canvases = await self._view.list_canvases()
            if not canvases:
                return "No game yet."
            meta = canvases[-1]
        lines = [
            f"Pixel Wars: {_describe(meta)} ({'open' if meta.is_open else 'closed'})",
            f"Size {meta.width}×{meta.height}, version {meta.version}, season {meta.season}",
        ]
        if self.players is not None and meta.is_open:
            playing, queued = self.players.counts(str(meta.canvas_id))
            lines.append(f"Players: {playing} playing, {queued} queued")
        return "\n".join(lines)

    async def _clear(self) -> str:
        meta = await self._view.find_current()
        if meta is None:
            return "No game is open: nothing to clear."
        try:
            placement = await self._canvases.execute(meta.canvas_id, BOT_ACTOR, ClearCanvas())
        except CanvasError as error:
            return f"Could not clear {_describe(meta)}: {error}"
        return f"Cleared {_describe(meta)}: a new season starts at version {placement.version}."

    async def _new_game(self, args: list[str]) -> str:
        size = parse_size(args)
        if size is None:
            return NEWGAME_USAGE
        width, height = size
        previous = await self._view.find_current()
        create = CreateCanvas(
            width=width,
            height=height,
            palette=list(palettes.DEFAULT),
            title=f"Pixel Wars {width}×{height}",
        )
        canvas = await asyncio.to_thread(self._canvases.create_canvas, create)
        reply = f"New game: {canvas.title} ({canvas.id}) is now the current canvas."
        if previous is not None and previous.canvas_id != canvas.id:
            try:
                await self._canvases.execute(previous.canvas_id, BOT_ACTOR, CloseCanvas())
            except CanvasError as error:
                return f"{reply}\nCould not close {_describe(previous)}: {error}"
            reply += f"\nThe previous game, {_describe(previous)}, is closed."
        return reply

    async def _reply(self, message: Message, reply: str | Reply) -> None:
        text, web_app = (reply, None) if isinstance(reply, str) else reply
        if message.chat.type != "private":
            web_app = None  # Telegram takes web_app buttons in private chats only
        try:
            await self.api.send_message(
                message.chat.id, text, reply_to_message_id=message.message_id, web_app=web_app
            )
        except BotApiError as error:
            log.warning("could not reply in chat %s: %s", message.chat.id, error)

    async def close(self) -> None:
        await self.api.aclose()
