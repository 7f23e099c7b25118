"""Rule templates: derived from the built-in games, every parameter checked, versioned."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.billiards.errors import (
    InvalidParameter,
    NotTemplateOwner,
    TemplateNotFound,
    UnknownGame,
    UnknownParameter,
)
from domain.billiards.rules import built_in
from domain.billiards.template import RuleTemplate
from tests.unit.billiards.factories import NOW


def a_template(base: str = "american", **params):
    return RuleTemplate.create(
        template_id=uuid4(), owner="ann", name="Our club", base=base, params=params, now=NOW
    )


def test_an_unknown_parameter_is_refused():
    with pytest.raises(UnknownParameter):
        a_template(max_beers=3)


@pytest.mark.parametrize(
    ("base", "params"),
    [
        ("american", {"target": 0}),
        ("american", {"target": "8"}),
        ("american", {"foul_penalty": "shout"}),
        ("american", {"stake": 10}),
        ("kolkhoz", {"players": 9}),
        ("kolkhoz", {"players": [4, 3]}),
        ("kolkhoz", {"ball_values": [1, 2]}),
        ("kolkhoz", {"scoring": "crooked"}),
        ("kolkhoz", {"draw_allowed": True}),
        ("kolkhoz", {"foul_penalty": "opponent_point"}),
        ("moscow", {"removed_ball_by": "referee"}),
        ("moscow", {"draw_allowed": 1}),
    ],
)
def test_invalid_parameter_values_are_refused(base, params):
    with pytest.raises(InvalidParameter):
        a_template(base, **params)


def test_an_unknown_game_is_refused():
    with pytest.raises(UnknownGame):
        a_template("snooker")


def test_each_edit_is_a_new_version_and_old_versions_keep_their_rules():
    template = a_template(target=5)
    assert template.edit(by="ann", params={"target": 10}, name=None, now=NOW) == 2
    assert template.rules(1).target == 5
    assert template.rules(2).target == 10
    assert template.rules().target == 10
    with pytest.raises(TemplateNotFound):
        template.rules(3)


def test_only_the_owner_edits():
    with pytest.raises(NotTemplateOwner):
        a_template().edit(by="bob", params={}, name=None, now=NOW)


def test_a_deleted_template_is_not_edited():
    template = a_template()
    template.delete(by="ann", now=NOW)
    with pytest.raises(TemplateNotFound):
        template.edit(by="ann", params={"target": 4}, name=None, now=NOW)


def test_built_in_defaults_follow_the_games():
    assert built_in("american").target == 8 and built_in("american").balls == 16
    assert built_in("moscow").removed_ball_by == "opponent"
    assert built_in("kolkhoz").scoring == "direct" and built_in("kolkhoz").target is None
