"""Американка and Московская, shot by shot: scores, turn, balls on the table and the end."""

from __future__ import annotations

import pytest

from domain.billiards.errors import MatchOver, NotYourTurn, TooManyBalls
from tests.unit.billiards.factories import a_match, play_all, shot

# (case, game, params, shots, scores, on_table, seat to shoot, reason the match ended)
CASES = [
    ("eight in three visits wins", "american", {}, [shot(0, 3), shot(0, 3), shot(0, 2)],
     [8, 0], 8, 0, "target"),
    ("a shot with nothing pocketed passes the turn", "american", {}, [shot(0), shot(1, 2)],
     [0, 2], 14, 1, None),
    ("a foul gives the opponent a point", "american", {}, [shot(0, fouls=["miss"])],
     [0, 1], 16, 1, None),
    ("several fouls in one shot are fined once", "american", {},
     [shot(0, fouls=["miss", "touch", "cue_off_table"])], [0, 1], 16, 1, None),
    ("balls pocketed with a foul are re-spotted", "american", {},
     [shot(0, 2, fouls=["double_hit"])], [0, 1], 16, 1, None),
    ("club variant: the offender returns a ball", "american",
     {"foul_penalty": "return_ball"}, [shot(0, 2), shot(0, fouls=["miss"])], [1, 0], 15, 1, None),
    ("club variant: with none he owes one, paid from his next ball", "american",
     {"foul_penalty": "return_ball"}, [shot(0, fouls=["miss"]), shot(1), shot(0, 2)],
     [1, 0], 15, 0, None),
    ("the struck ball going in counts in Американка", "american", {},
     [shot(0, 1, cue=True)], [2, 0], 14, 0, None),
    ("a lower target ends sooner", "american", {"target": 3}, [shot(0, 1), shot(0, 2)],
     [3, 0], 13, 0, "target"),
    ("свояк scores and an object ball comes off", "moscow", {}, [shot(0, 1, cue=True)],
     [2, 0], 13, 0, None),
    ("a свояк alone scores one", "moscow", {}, [shot(0, 0, cue=True)], [1, 0], 14, 0, None),
    ("a foul in Московская gives a point", "moscow", {}, [shot(0, fouls=["touch"])],
     [0, 1], 15, 1, None),
    ("the breaker is who the order names first", "moscow", {}, [shot(1, 2)], [0, 2], 13, 1, None),
]


@pytest.mark.parametrize(
    ("game", "params", "shots", "scores", "on_table", "turn", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_pyramid_shot_sequences(game, params, shots, scores, on_table, turn, reason):
    order = [shots[0].shooter, 1 - shots[0].shooter]
    match = play_all(a_match(game, params=params, order=order), shots)
    assert list(match.table.scores) == scores
    assert match.table.on_table == on_table
    assert match.table.shooter == turn
    assert (match.finished or {}).get("reason") == reason


def test_the_winner_is_first_in_the_standings():
    match = play_all(a_match(), [shot(0, 1), shot(0), shot(1, 8)])
    assert match.finished is not None
    assert match.finished["winner"] == 1
    assert [(e["name"], e["score"], e["place"]) for e in match.finished["standings"]] == [
        ("Bob", 8, 1),
        ("Ann", 1, 2),
    ]


def test_a_shot_out_of_turn_is_refused_and_changes_nothing():
    match = play_all(a_match(), [shot(0)])
    version = match.version
    with pytest.raises(NotYourTurn):
        play_all(match, [shot(0, 1)])
    assert match.version == version and list(match.table.scores) == [0, 0]


def test_more_balls_than_remain_are_refused():
    match = play_all(a_match("moscow", params={"target": 20}), [shot(0, 7), shot(0, 7)])
    assert match.table.on_table == 1
    with pytest.raises(TooManyBalls):
        play_all(match, [shot(0, 2)])


def test_after_a_свояк_the_removed_ball_counts_against_what_remains():
    match = play_all(a_match("moscow", params={"target": 20}), [shot(0, 12), shot(0, 1, cue=True)])
    assert match.table.on_table == 1  # 15 - 12 - 1 pocketed - 1 taken off
    with pytest.raises(TooManyBalls):
        play_all(match, [shot(0, 2)])


def test_no_shot_after_the_end():
    match = play_all(a_match(), [shot(0, 8)])
    with pytest.raises(MatchOver):
        play_all(match, [shot(0, 1)])


def test_the_table_cleared_ends_the_match_with_the_leader_winning():
    match = play_all(a_match(params={"target": 20}), [shot(0, 10), shot(0), shot(1, 6)])
    assert match.finished is not None
    assert match.finished["reason"] == "table_cleared"
    assert match.finished["winner"] == 0
