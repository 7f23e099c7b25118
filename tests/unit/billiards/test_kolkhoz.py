"""Колхоз: rotation, valued balls, fines and the settlement at the stake per point."""

from __future__ import annotations

import pytest

from domain.billiards.errors import InvalidShot, TooManyBalls
from tests.unit.billiards.factories import NOW, a_match, key, play_all, shot


def test_three_players_direct_scoring_settles_against_the_next_shooter():
    match = a_match("kolkhoz", players=3, params={"stake": 10})
    play_all(match, [
        shot(0, 3), shot(0),              # Ann 3
        shot(1, 1), shot(1),              # Bob 1
        shot(2, 2), shot(2),              # Cat 2
        shot(0, fouls=["miss"]),          # Ann fined 1: 2
    ])
    match.stop(by="ann", key=key(), now=NOW)
    assert match.finished is not None
    by_seat = {e["seat"]: e for e in match.finished["standings"]}
    assert [by_seat[s]["score"] for s in range(3)] == [2, 1, 2]
    # Ann 2 - Bob 1, Bob 1 - Cat 2, Cat 2 - Ann 2
    assert [by_seat[s]["result"] for s in range(3)] == [1, -1, 0]
    assert [by_seat[s]["money"] for s in range(3)] == [10, -10, 0]
    assert [e["seat"] for e in match.finished["standings"]] == [0, 2, 1]


def test_five_players_with_coloured_balls_and_plain_scoring_settle_pairwise():
    values = [1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 5, 6]
    match = a_match(
        "kolkhoz", players=5,
        params={"ball_values": values, "scoring": "plain", "stake": 5},
        order=[2, 0, 1, 4, 3],
    )
    play_all(match, [
        shot(2, 2, numbers=[15, 14]), shot(2),              # Cat 6 + 5 = 11
        shot(0, 1, numbers=[1]), shot(0),                   # Ann 1
        shot(1),                                            # Bob 0
        shot(4, fouls=["cue_off_table"], on_ball=13),       # Eve fined 4: -4
        shot(3, 1, numbers=[10]), shot(3),                  # Dan 3
    ])
    match.stop(by="ann", key=key(), now=NOW)
    assert match.finished is not None
    by_seat = {e["seat"]: e for e in match.finished["standings"]}
    assert [by_seat[s]["score"] for s in range(5)] == [1, 0, 11, 3, -4]
    total = 11
    assert [by_seat[s]["money"] for s in range(5)] == [
        (5 * score - total) * 5 for score in [1, 0, 11, 3, -4]
    ]
    assert sum(by_seat[s]["money"] for s in range(5)) == 0
    assert [e["place"] for e in match.finished["standings"]] == [1, 2, 3, 4, 5]


def test_the_rotation_goes_round_in_the_order_drawn():
    match = play_all(a_match("kolkhoz", players=3, order=[1, 2, 0]), [shot(1), shot(2)])
    assert match.table.shooter == 0
    play_all(match, [shot(0)])
    assert match.table.shooter == 1


def test_clearing_the_table_ends_kolkhoz():
    match = play_all(a_match("kolkhoz", players=3), [shot(0, 10), shot(0, 5)])
    assert match.finished is not None and match.finished["reason"] == "table_cleared"


def test_a_valued_ball_not_on_the_table_is_refused():
    values = list(range(1, 16))
    match = play_all(
        a_match("kolkhoz", params={"ball_values": values}), [shot(0, 1, numbers=[15])]
    )
    with pytest.raises(TooManyBalls):
        play_all(match, [shot(0, 1, numbers=[15])])
    with pytest.raises(InvalidShot):
        play_all(match, [shot(0, 2, numbers=[3])])


def test_pocketing_the_cue_ball_in_kolkhoz_is_a_foul():
    match = play_all(a_match("kolkhoz", players=3), [shot(0, 1, cue=True)])
    assert list(match.table.scores) == [-1, 0, 0]
    assert match.table.on_table == 15
