"""What the notification outbox learns from events (pure): who can be reached and how
(recipients), the facts a later event needs (a club's name, whose queue entry it is, who sits
in a match), and the notices to send. A notice's key is the event's id (aggregate id and
version) and its recipient, so however often an event is applied it is one notice."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from commands.codec import MsgspecTranscoder
from projections.recorded import Recorded

_P = "domain.billiards.player:Player."
_C = "domain.billiards.club:Club."
_M = "domain.billiards.match:BilliardsMatch."


class Recipient(msgspec.Struct, frozen=True):
    """A change of how a player is reached: only the fields given change."""

    player_id: UUID
    account: str | None = None
    chat_id: int | None = None
    language: str | None = None
    notices: list[str] | None = None


class Fact(msgspec.Struct, frozen=True):
    key: str
    value: dict[str, Any]
    join_seat: bool = False
    """A player took a match's seat (`value`: `seat`, None for a new one, and `account`)."""


class Notice(msgspec.Struct, frozen=True):
    key: str
    """`<aggregate id>/<version>`; the outbox adds the recipient."""
    kind: str
    params: dict[str, Any]
    to_player: UUID | None = None
    to_accounts: list[str] = []
    to_entries: list[str] = []
    """Club queue entries (`entry:<id>` facts name their accounts)."""
    to_match: str | None = None
    """Every account seated in this match (its `match:<id>` fact)."""


OutboxChange = Recipient | Fact | Notice
_state = MsgspecTranscoder()


class NotificationsProjection:
    topics: tuple[str, ...] = (
        _P + "Registered", _P + "ProfileUpdated", _P + "PreferencesSet", _P + "RequestReceived",
        _P + "Invited",
        _C + "Created", _C + "TableAdded", _C + "Queued", _C + "Called",
        _M + "Created", _M + "PlayerJoined", _M + "Finished",
    )

    def __init__(self) -> None:
        self.changes: list[OutboxChange] = []

    def apply(self, event: Recorded) -> None:
        if event.topic not in self.topics:
            return
        s: dict[str, Any] = _state.decode(event.state)
        oid = event.originator_id
        key = f"{oid}/{event.originator_version}"
        out = self.changes.append
        match event.topic.rsplit(".", 1)[1]:
            case "Registered" if event.topic.startswith(_P):
                out(Recipient(oid, account=s["account"]))
            case "ProfileUpdated":
                out(Recipient(oid, chat_id=s["telegram_id"]))
            case "PreferencesSet":
                out(Recipient(oid, language=s["language"], notices=list(s["notices"])))
            case "RequestReceived":
                out(Notice(key, "friend_request", {"name": s["name"], "from": s["other"]},
                           to_player=oid))
            case "Invited":
                out(Notice(key, "match_invite", {"name": s["name"], **s["what"]}, to_player=oid))
            case "Created" if event.topic.startswith(_C):
                out(Fact(f"club:{oid}", {"name": s["name"]}))
            case "TableAdded":
                out(Fact(f"table:{oid}/{s['table_id']}", {"name": s["name"]}))
            case "Queued":
                entry = s["entry"]
                out(Fact(f"entry:{entry['id']}", {"account": entry["account"]}))
                out(Fact(f"last_club:{entry['account']}", {"club_id": str(oid)}))
            case "Called":
                out(Notice(key, "table_ready",
                           {"club_id": str(oid), "table_id": s["table_id"],
                            "deadline_ms": s["deadline_ms"]},
                           to_entries=list(s["entries"])))
            case "Created":
                seats = [p.get("account") for p in s["players"]]
                out(Fact(f"match:{oid}", {"seats": seats, "template": s["template_name"]}))
            case "PlayerJoined":
                out(Fact(f"match:{oid}", {"seat": s["seat"], "account": s["account"]},
                         join_seat=True))
            case "Finished":
                out(Notice(key, "match_result",
                           {"match_id": str(oid), "reason": s["reason"],
                            "standings": s["standings"]},
                           to_match=str(oid)))

    def collect(self) -> list[OutboxChange]:
        changes, self.changes = self.changes, []
        return changes
