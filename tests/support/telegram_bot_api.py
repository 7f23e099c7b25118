"""Telegram's Bot API on loopback: answers `sendMessage` like Telegram does and records each call."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

from tests.support.loopback import JsonHandler, LoopbackServer
from tests.support.signing import BOT_TOKEN


class BotApiStandIn:
    def __init__(self, token: str = BOT_TOKEN, *, delay_s: float = 0.0) -> None:
        """`delay_s`: how long each `sendMessage` takes to answer (Telegram's round trip)."""
        self.token = token
        self.delay_s = delay_s
        self.sent: list[dict[str, Any]] = []
        """The bodies of the accepted `sendMessage` calls, in order."""
        self.refused = 0
        self.calls: list[tuple[float, dict[str, Any], int]] = []
        """Every `sendMessage` call: when it came (`time.monotonic()`), its body, the status."""
        self.refusals: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        """Answers to give a chat's next calls instead of sending: `refuse(chat, 429, …)`."""
        self.most_at_once = 0
        """The most `sendMessage` calls that were being answered at one time."""
        self._at_once = 0
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1)
        stand_in = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self.reply_json(*stand_in.answer(self.path, self.rfile.read(length)))

        self._server = LoopbackServer(Handler)
        self.url = self._server.url

    def answer(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        token, _, method = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot") or token != self.token:
            with self._lock:
                self.refused += 1
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if method != "sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, _bad_request("can't parse JSON")
        if not isinstance(body.get("chat_id"), int | str):
            return 400, _bad_request("chat_id is empty")
        if not str(body.get("text", "")).strip():
            return 400, _bad_request("message text is empty")
        arrived = time.monotonic()
        with self._lock:
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)
        try:
            time.sleep(self.delay_s)  # each call has its own thread
            return self._send(body, arrived)
        finally:
            with self._lock:
                self._at_once -= 1

    def _send(self, body: dict[str, Any], arrived: float) -> tuple[int, dict[str, Any]]:
        with self._lock:
            scripted = self.refusals.get(body["chat_id"])
            if scripted:
                status, answer = scripted.pop(0)
                self.calls.append((arrived, body, status))
                return status, answer
            self.calls.append((arrived, body, 200))
            self.sent.append(body)
            message_id = next(self._message_ids)
        return 200, {
            "ok": True,
            "result": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": body["chat_id"], "type": "private"},
                "text": body["text"],
            },
        }

    def refuse(self, chat_id: int, status: int, retry_after: int | None = None) -> None:
        """The chat's next call is refused as Telegram does: 429 (flood control, with
        `retry_after`), 403 (the user blocked the bot), 500."""
        answer: dict[str, Any] = {"ok": False, "error_code": status, "description": {
            429: f"Too Many Requests: retry after {retry_after}",
            403: "Forbidden: bot was blocked by the user",
        }.get(status, "Internal Server Error")}
        if retry_after is not None:
            answer["parameters"] = {"retry_after": retry_after}
        with self._lock:
            self.refusals.setdefault(chat_id, []).append((status, answer))

    def texts(self, chat_id: int | None = None) -> list[str]:
        with self._lock:
            return [m["text"] for m in self.sent if chat_id is None or m["chat_id"] == chat_id]

    def close(self) -> None:
        self._server.close()


def _bad_request(why: str) -> dict[str, Any]:
    return {"ok": False, "error_code": 400, "description": f"Bad Request: {why}"}
