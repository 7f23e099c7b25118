"""The words of each notification, in the recipient's language, and the Mini App page its
button opens. Pure."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

_TEXTS: dict[str, dict[str, str]] = {
    "table_ready": {
        "ru": "Ваш стол готов: {table} в «{club}». Подтвердите, что идёте.",
        "en": "Your table is ready: {table} at {club}. Confirm you are coming.",
    },
    "friend_request": {
        "ru": "{name} хочет добавить вас в друзья.",
        "en": "{name} wants to be your friend.",
    },
    "match_invite": {
        "ru": "{name} зовёт вас в партию: {template}.",
        "en": "{name} invites you to a match: {template}.",
    },
    "queue_invite": {
        "ru": "{name} зовёт вас в очередь «{club}».",
        "en": "{name} invites you to the queue at {club}.",
    },
    "match_result": {
        "ru": "Партия окончена ({template}): вы {place}-й из {players}, очки {score}.",
        "en": "Match over ({template}): you placed {place} of {players}, score {score}.",
    },
    "rating": {"ru": " Рейтинг: {change:+.1f}.", "en": " Rating: {change:+.1f}."},
    "weekly": {
        "ru": "Ваша неделя: партий — {played}, побед — {won}.",
        "en": "Your week: {played} matches, {won} won.",
    },
    "open": {"ru": "Открыть", "en": "Open"},
}


def _say(key: str, language: str, **values: Any) -> str:
    texts = _TEXTS[key]
    return texts.get(language, texts["en"]).format(**values)


def render(
    kind: str, params: dict[str, Any], account: str, language: str, base_url: str,
    rating_change: float | None = None,
) -> tuple[str, tuple[str, str] | None]:
    """The message's text and its button `(label, Mini App URL)` (None without a base URL)."""
    base = base_url.rstrip("/")
    page = ""
    match kind:
        case "table_ready":
            text = _say(kind, language, table=params.get("table") or params["table_id"],
                        club=params.get("club") or "")
            page = f"/club/{params['club_id']}"
        case "friend_request":
            text = _say(kind, language, name=params["name"])
            page = "/friends"
        case "match_invite" if params.get("kind") == "queue":
            text = _say("queue_invite", language, name=params["name"], club=params["club"])
            page = f"/club/{params['club_id']}"
        case "match_invite":
            text = _say(kind, language, name=params["name"], template=params["template"])
            page = f"/join/{params['match_id']}?invite={quote(params['invite'], safe='')}"
        case "match_result":
            seats = params.get("seats", [])
            standings = params.get("standings", [])
            mine = next((e for e in standings if e["seat"] < len(seats)
                         and seats[e["seat"]] == account), None)
            text = _say(kind, language, template=params.get("template", ""),
                        place=mine["place"] if mine else "?", players=len(standings),
                        score=mine["score"] if mine else "?")
            if rating_change is not None:
                text += _say("rating", language, change=rating_change)
            page = f"/match/{params['match_id']}"
        case "weekly":
            text = _say(kind, language, played=params["played"], won=params["won"])
            page = "/"
        case _:
            raise ValueError(f"no such notification: {kind}")
    if not base:
        return text, None
    return text, (_say("open", language), base + page)
