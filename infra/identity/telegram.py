"""Checking what Telegram signed: Mini App `initData` and the Login Widget's fields.

Both are HMAC-SHA256 over a data-check string (every field but `hash`, sorted, `key=value` lines);
they differ in the key: HMAC_SHA256("WebAppData", bot token) for Mini Apps, SHA256(bot token) for
the widget. Comparisons are constant-time; data older than `max_age_s` is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from urllib.parse import parse_qsl

import msgspec


class TelegramAuthError(Exception):
    code = "invalid_telegram_data"


class TelegramUser(msgspec.Struct, frozen=True):
    id: int
    first_name: str = ""
    last_name: str = ""
    username: str = ""

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.username


def _check(fields: Mapping[str, str], key: bytes, *, max_age_s: int, now: int) -> None:
    received = fields.get("hash")
    if not received:
        raise TelegramAuthError("no hash")
    data_check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "hash")
    expected = hmac.new(key, data_check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received.lower()):
        raise TelegramAuthError("the signature does not match")
    try:
        auth_date = int(fields["auth_date"])
    except (KeyError, ValueError):
        raise TelegramAuthError("no valid auth_date") from None
    if not now - max_age_s <= auth_date <= now + 60:
        raise TelegramAuthError("the data is too old (or from the future)")


def verify_init_data(init_data: str, bot_token: str, *, max_age_s: int, now: int) -> TelegramUser:
    """The user a Mini App's `initData` query string was signed for."""
    fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=False))
    key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    _check(fields, key, max_age_s=max_age_s, now=now)
    try:
        return msgspec.convert(json.loads(fields["user"]), TelegramUser, strict=False)
    except (KeyError, ValueError, msgspec.ValidationError):
        raise TelegramAuthError("initData carries no valid user") from None


def verify_login_widget(
    fields: Mapping[str, str | int], bot_token: str, *, max_age_s: int, now: int
) -> TelegramUser:
    """The user the Login Widget's callback fields were signed for."""
    as_text = {k: str(v) for k, v in fields.items()}
    _check(as_text, hashlib.sha256(bot_token.encode()).digest(), max_age_s=max_age_s, now=now)
    try:
        return msgspec.convert(as_text, TelegramUser, strict=False)
    except msgspec.ValidationError:
        raise TelegramAuthError("the widget data carries no valid user") from None
