"""A match's life apart from the rules: seats, the scorekeeper, undo, keys sent again, the end."""

from __future__ import annotations

import pytest

from domain.billiards.errors import (
    DrawNotAllowed,
    KeyReused,
    MatchOver,
    MatchStarted,
    NotAPlayer,
    NothingToUndo,
    NotScorekeeper,
    WrongInvite,
)
from tests.unit.billiards.factories import NOW, a_match, key, play_all, shot


def test_undo_takes_back_the_last_shot_as_an_event():
    match = play_all(a_match(), [shot(0, 3), shot(0)])
    version = match.version
    match.undo(by="ann", key=key(), now=NOW)
    assert match.version == version + 1
    assert list(match.table.scores) == [3, 0] and match.table.shooter == 0
    match.undo(by="ann", key=key(), now=NOW)
    assert list(match.table.scores) == [0, 0]
    with pytest.raises(NothingToUndo):
        match.undo(by="ann", key=key(), now=NOW)


def test_undoing_the_winning_shot_reopens_the_match():
    match = play_all(a_match(), [shot(0, 8)])
    assert match.finished is not None
    match.undo(by="ann", key=key(), now=NOW)
    assert match.finished is None
    play_all(match, [shot(0, 7)])
    assert match.finished is None


def test_a_shot_sent_again_under_its_key_is_applied_once():
    match = a_match()
    first = match.record_shot(by="ann", key="same", shot=shot(0, 2), now=NOW)
    again = match.record_shot(by="ann", key="same", shot=shot(0, 2), now=NOW)
    assert again.replayed and again.version == first.version
    assert list(match.table.scores) == [2, 0]
    with pytest.raises(KeyReused):
        match.record_shot(by="ann", key="same", shot=shot(0, 3), now=NOW)


def test_only_the_scorekeeper_records_until_a_player_takes_over():
    match = a_match()
    with pytest.raises(NotScorekeeper):
        match.record_shot(by="bob", key=key(), shot=shot(0, 1), now=NOW)
    match.take_over(by="bob", now=NOW)
    match.record_shot(by="bob", key=key(), shot=shot(0, 1), now=NOW)
    with pytest.raises(NotScorekeeper):
        match.record_shot(by="ann", key=key(), shot=shot(0, 1), now=NOW)


def test_someone_not_playing_records_nothing():
    match = a_match()
    with pytest.raises(NotAPlayer):
        match.record_shot(by="zed", key=key(), shot=shot(0, 1), now=NOW)
    with pytest.raises(NotAPlayer):
        match.take_over(by="zed", now=NOW)


def test_an_invited_account_takes_a_guests_seat():
    match = a_match()
    match.players[1]["account"] = None  # seat 1 a guest, as created with a name only
    with pytest.raises(WrongInvite):
        match.join(account="zed", name="Zed", invite_hash="nope", seat=1, now=NOW)
    match.join(account="zed", name="Zed", invite_hash="h", seat=1, now=NOW)
    assert match.seat_of("zed") == 1


def test_guests_join_kolkhoz_before_the_break_only():
    match = a_match("kolkhoz", players=2)
    match.add_guest(by="ann", name="Uncle Vanya", now=NOW)
    assert len(match.table.order) == 3
    play_all(match, [shot(0)])
    with pytest.raises(MatchStarted):
        match.add_guest(by="ann", name="Late", now=NOW)


def test_who_breaks_is_set_before_the_first_shot():
    match = a_match()
    match.set_order(by="ann", order=[1, 0], now=NOW)
    assert match.table.shooter == 1
    play_all(match, [shot(1)])
    with pytest.raises(MatchStarted):
        match.set_order(by="ann", order=[0, 1], now=NOW)


def test_a_draw_is_agreed_at_level_scores_only():
    match = play_all(a_match(), [shot(0, 1)])
    with pytest.raises(DrawNotAllowed):
        match.agree_draw(by="ann", key=key(), now=NOW)
    play_all(match, [shot(0), shot(1, 1)])
    match.agree_draw(by="ann", key=key(), now=NOW)
    assert match.finished is not None and match.finished["reason"] == "draw"
    assert [e["place"] for e in match.finished["standings"]] == [1, 1]
    with pytest.raises(MatchOver):
        match.undo(by="ann", key=key(), now=NOW)


def test_resigning_gives_the_match_to_the_opponent():
    match = play_all(a_match(), [shot(0, 5)])
    match.resign(by="ann", key=key(), seat=None, now=NOW)
    assert match.finished is not None
    assert match.finished["winner"] == 1 and match.finished["reason"] == "resigned"
    assert match.finished["standings"][0]["name"] == "Bob"
