from uuid import uuid4

import pytest

from domain.quiz.errors import GameNotFound, InvalidGame, InvalidTask, NotAllowed, TaskNotFound
from domain.quiz.game import Game
from tests.factories import T0

SHA = "c" * 64


def a_game(**details) -> Game:
    return Game.create(game_id=uuid4(), owner="owner", details={"title": "Capitals", **details},
                       now=T0)


def a_raw_task(text: str = "Paris?") -> dict:
    return {"kind": "true_false", "text": text,
            "options": [{"text": "True", "correct": True}, {"text": "False"}]}


def test_a_game_is_private_with_default_scoring_unless_told():
    game = a_game()
    assert (game.public, game.scoring["streak_cap"], game.tasks) == (False, 500, [])


def test_owner_and_admins_edit_and_others_get_refused():
    game = a_game()
    game.set_admins(user="owner", admins=["ada"], now=T0)
    game.add_task(user="ada", task_id="t1", raw=a_raw_task(), position=None, now=T0)
    with pytest.raises(NotAllowed):
        game.add_task(user="eve", task_id="t2", raw=a_raw_task(), position=None, now=T0)
    with pytest.raises(NotAllowed):
        game.set_admins(user="ada", admins=["eve"], now=T0)
    with pytest.raises(NotAllowed):
        game.delete(user="ada", now=T0)


def test_tasks_are_added_edited_reordered_duplicated_and_removed():
    game = a_game()
    for n in range(3):
        game.add_task(user="owner", task_id=f"t{n}", raw=a_raw_task(f"q{n}"), position=None, now=T0)
    game.move_task(user="owner", task_id="t2", position=0, now=T0)
    game.duplicate_task(user="owner", task_id="t0", new_id="t0b", now=T0)
    game.edit_task(user="owner", task_id="t1", raw=a_raw_task("edited"), now=T0)
    game.remove_task(user="owner", task_id="t2", now=T0)
    assert [(t["id"], t["text"]) for t in game.tasks] == [
        ("t0", "q0"), ("t0b", "q0"), ("t1", "edited")]


def test_bad_edits_change_nothing():
    game = a_game()
    with pytest.raises(InvalidTask):
        game.add_task(user="owner", task_id="t", raw={"kind": "single", "text": "x"},
                      position=None, now=T0)
    with pytest.raises(TaskNotFound):
        game.edit_task(user="owner", task_id="nope", raw=a_raw_task(), now=T0)
    with pytest.raises(InvalidGame):
        game.change_details(user="owner", changes={"title": ""}, now=T0)
    with pytest.raises(InvalidGame):
        game.change_details(user="owner", changes={"owner": "eve"}, now=T0)
    assert game.tasks == [] and game.title == "Capitals"


def test_a_games_images_are_its_cover_and_its_tasks_and_options():
    game = a_game(cover=SHA)
    game.add_task(user="owner", task_id="t", raw={**a_raw_task(), "image": "d" * 64},
                  position=None, now=T0)
    assert game.images() == {SHA, "d" * 64}


def test_a_deleted_game_takes_no_more_edits():
    game = a_game()
    game.delete(user="owner", now=T0)
    with pytest.raises(GameNotFound):
        game.change_details(user="owner", changes={"title": "x"}, now=T0)


def test_public_games_are_readable_by_anyone_private_ones_by_editors_only():
    game = a_game()
    assert not game.may_read("eve") and game.may_read("owner")
    game.change_details(user="owner", changes={"public": True}, now=T0)
    assert game.may_read(None)
