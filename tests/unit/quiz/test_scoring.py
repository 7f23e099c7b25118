import pytest

from domain.quiz.errors import InvalidAnswer
from domain.quiz.scoring import Scoring, fraction_right, judge, next_streak, speed_factor
from tests.unit.quiz.quiz_factories import a_single, a_task

DEFAULT = Scoring()


def test_an_instant_right_answer_scores_full_points():
    assert judge(a_single(), 0, elapsed_ms=300, streak=0, scoring=DEFAULT).points == 1000


def test_a_right_answer_loses_up_to_half_its_points_with_time():
    task = a_single(limit=20)
    assert judge(task, 0, elapsed_ms=10_000, streak=0, scoring=DEFAULT).points == 750
    assert judge(task, 0, elapsed_ms=20_000, streak=0, scoring=DEFAULT).points == 500


def test_answers_within_half_a_second_score_full_points_and_just_after_do_not():
    task = a_single(limit=20)
    assert judge(task, 0, elapsed_ms=500, streak=0, scoring=DEFAULT).points == 1000
    assert judge(task, 0, elapsed_ms=501, streak=0, scoring=DEFAULT).points == 987


def test_double_points_tasks_score_double():
    task = a_single(points=2000, limit=20)
    assert judge(task, 0, elapsed_ms=10_000, streak=0, scoring=DEFAULT).points == 1500


def test_a_wrong_answer_scores_nothing():
    assert judge(a_single(), 1, elapsed_ms=100, streak=3, scoring=DEFAULT).points == 0


def test_the_streak_bonus_is_a_hundred_per_right_answer_before_capped_at_five_hundred():
    task = a_single()
    bonuses = [judge(task, 0, elapsed_ms=0, streak=s, scoring=DEFAULT).bonus for s in range(8)]
    assert bonuses == [0, 100, 200, 300, 400, 500, 500, 500]


def test_a_wrong_answer_resets_the_streak_and_a_poll_leaves_it():
    assert next_streak(4, 1.0, True) == 5
    assert next_streak(4, 0.0, True) == 0
    assert next_streak(4, None, False) == 0
    assert next_streak(4, None, True) == 4


def test_multiple_choice_scores_partial_credit_per_right_option():
    options = [{"text": str(i), "correct": i < 2} for i in range(4)]
    task = a_task("multiple", options=options, time_limit_s=20)
    assert judge(task, [0, 1], elapsed_ms=0, streak=0, scoring=DEFAULT).points == 1000
    half = judge(task, [0], elapsed_ms=0, streak=2, scoring=DEFAULT)
    assert (half.points, half.bonus, half.right) == (500, 0, False)
    assert fraction_right(task, [0, 2]) == 0.0  # a wrong pick takes a right one back
    assert fraction_right(task, [0, 1, 2]) == 0.5


def test_type_the_answer_is_case_insensitive_by_default_and_ignores_spacing():
    task = a_task("type_answer", accepted=["Paris"])
    assert fraction_right(task, "  paris ") == 1.0
    assert fraction_right(task, "Lyon") == 0.0
    sensitive = a_task("type_answer", accepted=["Paris"], case_sensitive=True)
    assert fraction_right(sensitive, "paris") == 0.0


def test_a_slider_answer_is_right_within_the_tolerance():
    task = a_task("slider", slider={"min": 0, "max": 100, "answer": 42, "tolerance": 2})
    assert fraction_right(task, 44) == 1.0
    assert fraction_right(task, 44.5) == 0.0


def test_order_the_items_is_right_only_in_the_listed_order():
    task = a_task("order", options=[{"text": t} for t in "abc"])
    assert fraction_right(task, [0, 1, 2]) == 1.0
    assert fraction_right(task, [1, 0, 2]) == 0.0


def test_a_poll_scores_nothing():
    task = a_task("poll", options=[{"text": "yes"}, {"text": "no"}])
    judged = judge(task, 1, elapsed_ms=0, streak=3, scoring=DEFAULT)
    assert (judged.fraction, judged.points, judged.bonus) == (None, 0, 0)


@pytest.mark.parametrize(
    ("kind", "fields", "answer"),
    [
        ("single", {"options": [{"text": "a", "correct": True}, {"text": "b"}]}, 2),
        ("single", {"options": [{"text": "a", "correct": True}, {"text": "b"}]}, "a"),
        ("single", {"options": [{"text": "a", "correct": True}, {"text": "b"}]}, True),
        ("multiple", {"options": [{"text": "a", "correct": True}, {"text": "b"}]}, [0, 0]),
        ("multiple", {"options": [{"text": "a", "correct": True}, {"text": "b"}]}, []),
        ("order", {"options": [{"text": "a"}, {"text": "b"}]}, [0]),
        ("slider", {"slider": {"min": 0, "max": 10, "answer": 5}}, 11),
        ("slider", {"slider": {"min": 0, "max": 10, "answer": 5}}, float("nan")),
        ("type_answer", {"accepted": ["x"]}, 3),
    ],
)
def test_an_answer_of_the_wrong_shape_is_refused(kind, fields, answer):
    with pytest.raises(InvalidAnswer):
        fraction_right(a_task(kind, **fields), answer)


def test_scoring_without_speed_gives_full_points_at_any_time():
    assert speed_factor(19_000, 20_000, Scoring(speed=False)) == 1.0
