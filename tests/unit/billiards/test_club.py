"""A club's queue: calls, confirmations, deadlines, positions."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.billiards.club import Club
from domain.billiards.errors import AlreadyQueued, InvalidQueue, NotInQueue
from tests.unit.billiards.factories import NOW


def a_club(tables: int = 1) -> Club:
    club = Club.create(club_id=uuid4(), name="Artel", admin="boss", confirm_ms=60_000, now=NOW)
    for n in range(1, tables + 1):
        club.add_table(by="boss", table_id=f"t{n}", name=f"Table {n}", game="american", now=NOW)
    return club


def queue(club: Club, *accounts: str, at=NOW) -> None:
    for account in accounts:
        club.join(account=account, name=account.title(), game="american", entry_id=account, now=at)


def test_two_waiting_players_are_called_to_a_free_table():
    club = a_club()
    queue(club, "ann")
    assert club.tables["t1"]["state"] == "free"
    queue(club, "bob", "cat")
    assert [e["account"] for e in club.tables["t1"]["called"]] == ["ann", "bob"]
    assert [e["account"] for e in club.queue] == ["cat"]


def test_both_confirming_makes_the_table_ready():
    club = a_club()
    queue(club, "ann", "bob")
    assert club.confirm(account="ann", now=NOW) is None
    players = club.confirm(account="bob", now=NOW)
    assert players is not None and [p["account"] for p in players] == ["ann", "bob"]
    assert club.confirm(account="bob", now=NOW) is None  # once only


def test_a_late_player_loses_his_turn_and_the_next_is_called():
    club = a_club()
    queue(club, "ann", "bob", "cat")
    club.confirm(account="ann", now=NOW)
    later = NOW + timedelta(seconds=61)
    assert club.expire(later)
    assert [e["account"] for e in club.tables["t1"]["called"]] == ["ann", "cat"]
    with pytest.raises(NotInQueue):
        club.confirm(account="bob", now=later)


def test_positions_and_estimates_follow_the_queue():
    club = a_club(tables=2)
    queue(club, "a", "b", "c", "d", "e", "f", "g")
    view = club.view(match_minutes=20)
    assert [(e["account"], e["position"], e["wait_minutes"]) for e in view["queue"]] == [
        ("e", 1, 10.0), ("f", 2, 10.0), ("g", 3, 20.0),
    ]


def test_a_player_queues_once():
    club = a_club()
    queue(club, "ann")
    with pytest.raises(AlreadyQueued):
        queue(club, "ann")


def test_a_table_ends_its_match_and_calls_the_next():
    club = a_club()
    queue(club, "ann", "bob", "cat", "dan")
    club.confirm(account="ann", now=NOW)
    club.confirm(account="bob", now=NOW)
    match_id = uuid4()
    club.assign(table_id="t1", match_id=match_id, now=NOW)
    assert club.tables["t1"]["state"] == "playing"
    club.free(table_id="t1", match_id=match_id, now=NOW)
    assert [e["account"] for e in club.tables["t1"]["called"]] == ["cat", "dan"]


def test_only_pyramid_games_have_tables():
    with pytest.raises(InvalidQueue):
        a_club().add_table(by="boss", table_id="k", name="K", game="kolkhoz", now=NOW)
