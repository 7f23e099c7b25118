"""The Billiards application on the in-memory store: templates by version, matches created from
them, the writer's decisions with their live frames, resuming from a version."""

from __future__ import annotations

import msgspec
import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from commands.billiards.billiards import Billiards, decide
from commands.billiards.wire import (
    Act,
    CreateMatch,
    CreateTemplate,
    EditTemplate,
    PlayerIn,
    RecordShot,
)
from domain.billiards.club import Club
from domain.billiards.errors import NotYourTurn, TemplateNotFound
from domain.billiards.match import BilliardsMatch
from domain.billiards.rules import BUILT_IN_IDS
from domain.billiards.template import RuleTemplate
from projections.billiards.matches import MatchesProjection
from projections.billiards.players import PlayersProjection
from projections.billiards.templates import TemplatesProjection
from tests.unit.billiards.factories import NOW


@pytest.fixture
def app():
    billiards = Billiards(clock=lambda: NOW, shuffle=lambda order: order.reverse())
    yield billiards
    billiards.close()


def players(*names: str) -> list[PlayerIn]:
    return [PlayerIn(name=names[0], me=True), *(PlayerIn(name=n) for n in names[1:])]


def test_a_match_keeps_the_rules_of_its_template_version(app):
    template = app.create_template("ann", CreateTemplate(base="american", name="Short", params={"target": 5}))
    old = app.create_match("ann", CreateMatch(template_id=template.id, players=players("Ann", "Bob")))
    app.edit_template("ann", template.id, EditTemplate(params={"target": 3}))
    new = app.create_match("ann", CreateMatch(template_id=template.id, players=players("Ann", "Bob")))
    again = app.get_match(old.match.id)
    assert (again.template_version, again.rules.target) == (1, 5)
    assert (new.match.template_version, new.match.rules.target) == (2, 3)
    with pytest.raises(TemplateNotFound):
        app.rules_of(template.id, 3)


def test_kolkhoz_by_lot_draws_the_order(app):
    created = app.create_match(
        "ann", CreateMatch(template_id=BUILT_IN_IDS["kolkhoz"], players=players("A", "B", "C"))
    )
    assert created.match.table.order == (2, 1, 0)  # the test's "lot" reverses


def test_a_decision_carries_the_frame_of_its_events(app):
    match = app.create_match(
        "ann", CreateMatch(template_id=BUILT_IN_IDS["american"], players=players("Ann", "Bob"))
    ).match
    with pytest.raises(NotYourTurn):
        decide(match, Act("ann", RecordShot(key="k0", shooter=1, balls=1)), NOW)
    decided = decide(match, Act("ann", RecordShot(key="k1", shooter=0, balls=8)), NOW)
    frame = msgspec.json.decode(decided.frame)
    assert [e["kind"] for e in frame["events"]] == ["ShotRecorded", "Finished"]
    assert frame["version"] == 3 and frame["board"]["finished"]["winner"] == 0
    again = decide(match, Act("ann", RecordShot(key="k1", shooter=0, balls=8)), NOW)
    assert again.replayed and again.frame is None


def test_a_client_resumes_from_the_version_it_saw(app):
    match = app.create_match(
        "ann", CreateMatch(template_id=BUILT_IN_IDS["american"], players=players("Ann", "Bob"))
    ).match
    for n in range(3):
        decide(match, Act("ann", RecordShot(key=f"k{n}", shooter=0, balls=1)), NOW)
    app.save(match)
    frames, version = app.frames_since(match.id, 2)
    assert version == 4
    assert [msgspec.json.decode(f)["version"] for f in frames] == [3, 4]
    fresh, _ = app.frames_since(match.id, 0)
    assert [msgspec.json.decode(f)["type"] for f in fresh] == ["board"]


def test_each_topic_the_projections_listen_for_is_a_real_event():
    topics = {
        get_topic(event)
        for aggregate in (BilliardsMatch, RuleTemplate, Club)
        for event in vars(aggregate).values()
        if isinstance(event, type) and issubclass(event, Aggregate.Event)
    }
    for topic in (*MatchesProjection.topics, *TemplatesProjection.topics, *PlayersProjection.topics):
        assert topic in topics, topic
