"""The outbox's pure parts: events to notices keyed by event id, and their texts."""

from __future__ import annotations

from uuid import uuid4

from commands.codec import MsgspecTranscoder
from infra.billiards.notice_texts import render
from infra.billiards.notifier import week_due
from projections.billiards.notifications import Notice, NotificationsProjection, Recipient
from projections.recorded import Recorded
from tests.unit.billiards.factories import NOW

_codec = MsgspecTranscoder()


def recorded(topic: str, version: int = 1, **state: object) -> Recorded:
    body = {"timestamp": NOW, "originator_topic": topic, **state}
    return Recorded(version * 10, uuid4(), version, topic, _codec.encode(body))


def test_a_friend_request_is_one_notice_keyed_by_its_event():
    projection = NotificationsProjection()
    event = recorded("domain.billiards.player:Player.RequestReceived", 3, other="bob", name="Bob")
    projection.apply(event)
    projection.apply(event)
    notices = projection.collect()
    assert {n.key for n in notices if isinstance(n, Notice)} == {f"{event.originator_id}/3"}
    assert notices[0].to_player == event.originator_id  # type: ignore[union-attr]


def test_a_profile_gives_the_chat_to_send_to():
    projection = NotificationsProjection()
    projection.apply(recorded("domain.billiards.player:Player.ProfileUpdated", 2, name="Ann",
                              telegram_id=77, username="ann"))
    (change,) = projection.collect()
    assert isinstance(change, Recipient) and change.chat_id == 77


def test_a_result_names_the_recipients_place_and_rating_change():
    params = {"match_id": "m1", "template": "Американка", "seats": ["ann", "bob"],
              "standings": [{"seat": 1, "place": 1, "score": 8}, {"seat": 0, "place": 2, "score": 3}]}
    text, button = render("match_result", params, "ann", "en", "https://t.example/billiards", -4.25)
    assert "placed 2 of 2" in text and "score 3" in text and "-4.2" in text
    assert button == ("Open", "https://t.example/billiards/match/m1")


def test_a_match_invitation_opens_its_join_page():
    params = {"kind": "match", "name": "Bob", "template": "Колхоз", "match_id": "m1",
              "invite": "a b"}
    text, button = render("match_invite", params, "ann", "ru", "https://t.example/billiards/")
    assert text.startswith("Bob зовёт вас в партию")
    assert button == ("Открыть", "https://t.example/billiards/join/m1?invite=a%20b")


def test_the_weekly_summary_is_due_from_monday_nine():
    monday = NOW.replace(year=2026, month=11, day=30, hour=8)
    assert week_due(monday) is None
    assert week_due(monday.replace(hour=9)) == "2026-W49"
