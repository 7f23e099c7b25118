"""A small Telegram Bot API client: the bot's replies. The token is part of every request URL,
so nothing here logs a URL, and httpx's own request log has the token masked."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import msgspec

log = logging.getLogger(__name__)

_TOKEN_IN_PATH = re.compile(r"/bot[^/\s]+/")


class BotApiError(Exception):
    """The Bot API refused a call or could not be reached; the message never holds the token.

    `code`: the Bot API's `error_code` (None when no answer came); `retry_after`: seconds to wait
    (a 429's `parameters.retry_after`); `maybe_sent`: the request may have reached Telegram
    (no answer after it was sent), so sending it again might send it twice."""

    def __init__(
        self, message: str, *, code: int | None = None, retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class _Answer(msgspec.Struct):
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str = ""
    parameters: dict[str, Any] | None = None


def _masked_arg(value: object) -> object:
    if isinstance(value, (str, httpx.URL)):
        return _TOKEN_IN_PATH.sub("/bot<token>/", str(value))
    return value


class _MaskTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # httpx logs "HTTP Request: POST <url> …" at INFO, and that URL holds the bot token.
        record.msg = _masked_arg(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked_arg(arg) for arg in record.args)
        return True


def _mask_httpx_log() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskTokens) for f in logger.filters):
        logger.addFilter(_MaskTokens())


class BotApi:
    def __init__(
        self,
        *,
        token: str,
        base_url: str = "https://api.telegram.org",
        timeout_s: float = 10.0,
    ) -> None:
        self._token = token
        self._base_url = base_url.rstrip("/")
        _mask_httpx_log()
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=4),
        )

    @property
    def configured(self) -> bool:
        return bool(self._token)

    async def send_message(
        self,
        chat_id: int,
        text: str,
        reply_to_message_id: int | None = None,
        *,
        web_app: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send `text` to a chat; returns the sent Message. Raises BotApiError. `web_app`: an
        inline button `(text, url)` that opens that Mini App URL (private chats only)."""
        body: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if web_app is not None:
            body["reply_markup"] = {
                "inline_keyboard": [[{"text": web_app[0], "web_app": {"url": web_app[1]}}]]
            }
        if reply_to_message_id is not None:
            body["reply_parameters"] = {
                "message_id": reply_to_message_id,
                "allow_sending_without_reply": True,
            }
        result = await self._call("sendMessage", body)
        return result if isinstance(result, dict) else {}

    async def _call(self, method: str, body: dict[str, Any]) -> Any:
        if not self._token:
            raise BotApiError(f"{method}: no bot token is configured")
        try:
            response = await self._http.post(
                f"{self._base_url}/bot{self._token}/{method}", json=body
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise BotApiError(f"{method}: {type(error).__name__}: {self._masked(error)}") from None
        except httpx.HTTPError as error:
            raise BotApiError(
                f"{method}: {type(error).__name__}: {self._masked(error)}", maybe_sent=True
            ) from None
        try:
            answer = msgspec.json.decode(response.content, type=_Answer)
        except msgspec.DecodeError:
            raise BotApiError(
                f"{method}: HTTP {response.status_code}, not a Bot API answer",
                code=response.status_code,
            ) from None
        if not answer.ok:
            code = answer.error_code or response.status_code
            retry_after = (answer.parameters or {}).get("retry_after")
            raise BotApiError(
                f"{method}: {code} {self._masked(answer.description)}", code=code,
                retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
            )
        return answer.result

    def _masked(self, value: object) -> str:
        text = str(value)
        return text.replace(self._token, "<token>") if self._token else text

    async def aclose(self) -> None:
        await self._http.aclose()
