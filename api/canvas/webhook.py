"""Telegram's webhook for the canvas's bot (`setWebhook` with `secret_token`)."""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency

from api.bodies import require_json
from api.canvas.parts import CanvasParts
from api.canvas.telegram_bot import SECRET_HEADER, UPDATE
from api.errors import ApiError


@post("/api/telegram/webhook", status_code=200, include_in_schema=False)
async def telegram_webhook(
    request: Request[Any, Any, Any], canvas: NamedDependency[CanvasParts]
) -> dict[str, bool]:
    """Telegram's updates for the bot (`setWebhook` with `secret_token`)."""
    secret = canvas.settings.telegram.webhook_secret
    if not secret:
        raise ApiError("not_found", "the Telegram webhook is off")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise ApiError("invalid_secret", f"missing or wrong {SECRET_HEADER}")
    require_json(request)
    try:
        update = UPDATE.decode(await request.body())
    except msgspec.DecodeError as error:
        raise ApiError("invalid_update", f"not a Telegram update: {error}") from None
    await canvas.telegram.handle(update)
    return {"ok": True}
