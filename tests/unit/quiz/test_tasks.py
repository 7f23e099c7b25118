import pytest

from domain.quiz.errors import InvalidTask
from domain.quiz.tasks import images_of, presented, public_view, solution, validate_task

SHA = "a" * 64


def test_a_time_limit_is_between_5_and_240_seconds():
    for limit in (4, 241, "20", True):
        with pytest.raises(InvalidTask):
            validate_task({"kind": "poll", "text": "q", "time_limit_s": limit,
                           "options": [{"text": "a"}, {"text": "b"}]}, "t")


def test_points_are_zero_standard_or_double():
    with pytest.raises(InvalidTask):
        validate_task({"kind": "single", "text": "q", "points": 500,
                       "options": [{"text": "a", "correct": True}, {"text": "b"}]}, "t")


def test_a_single_choice_task_has_exactly_one_right_option():
    with pytest.raises(InvalidTask):
        validate_task({"kind": "single", "text": "q",
                       "options": [{"text": "a", "correct": True}, {"text": "b", "correct": True}]},
                      "t")


def test_unknown_kinds_and_bad_image_ids_are_refused():
    with pytest.raises(InvalidTask):
        validate_task({"kind": "essay", "text": "q"}, "t")
    with pytest.raises(InvalidTask):
        validate_task({"kind": "type_answer", "text": "q", "accepted": ["x"], "image": "../x"}, "t")


def test_true_false_takes_two_options_one_right():
    task = validate_task({"kind": "true_false", "text": "Sky is blue",
                          "options": [{"text": "True", "correct": True}, {"text": "False"}]}, "t")
    assert solution(task) == 0
    assert task["points"] == 1000


def test_players_are_not_shown_the_right_answers():
    task = validate_task({"kind": "single", "text": "q", "image": SHA,
                          "options": [{"text": "a", "correct": True, "image": "b" * 64},
                                      {"text": "b"}]}, "t")
    view = public_view(task, 0, 3)
    assert "correct" not in str(view)
    assert images_of(task) == {SHA, "b" * 64}


def test_order_items_are_shown_shuffled_the_same_way_every_time():
    task = validate_task({"kind": "order", "text": "q",
                          "options": [{"text": t} for t in "abcd"]}, "task-1")
    assert presented(task) != [0, 1, 2, 3]
    assert presented(task) == presented(dict(task))
    assert sorted(presented(task)) == [0, 1, 2, 3]


def test_a_poll_has_no_points():
    task = validate_task({"kind": "poll", "text": "q", "points": 2000,
                          "options": [{"text": "a"}, {"text": "b"}]}, "t")
    assert task["points"] == 0
