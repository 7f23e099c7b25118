"""Properties over random matches: what the events allow bounds every score, and replaying a
match's stored events gives byte-identical standings."""

from __future__ import annotations

import msgspec
from eventsourcing.application import Application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.codec import MsgspecTranscoder
from domain.billiards.errors import BilliardsError
from domain.billiards.match import BilliardsMatch
from domain.billiards.play import Shot
from domain.billiards.rules import FOUL_KINDS
from tests.unit.billiards.factories import NOW, a_match, key

GAMES = [
    ("american", 2, {}),
    ("american", 2, {"foul_penalty": "return_ball"}),
    ("moscow", 2, {"target": 12}),
    ("kolkhoz", 3, {"stake": 7}),
    ("kolkhoz", 5, {"scoring": "plain", "ball_values": [1, 2, 3] * 5}),
]


class Store(Application):
    def construct_transcoder(self):
        return MsgspecTranscoder()


@st.composite
def a_played_match(draw):
    game, players, params = draw(st.sampled_from(GAMES))
    match = a_match(game, players=players, params=params)
    for _ in range(draw(st.integers(0, 60))):
        if match.finished is not None and draw(st.booleans()):
            break
        if match.shots and draw(st.integers(0, 9)) == 0:
            try:
                match.undo(by="ann", key=key(), now=NOW)
            except BilliardsError:
                pass
            continue
        table = match.table
        foul = draw(st.integers(0, 5)) == 0
        if match.rules.valued:
            numbers = draw(st.lists(st.sampled_from(table.remaining or (1,)), max_size=3, unique=True))
            numbers = [n for n in numbers if n in (table.remaining or ())]
            one = Shot(
                shooter=table.shooter, balls=len(numbers), numbers=tuple(numbers),
                fouls=("miss",) if foul else (),
                on_ball=(table.remaining or (None,))[0] if foul else None,
            )
        else:
            balls = draw(st.integers(0, min(3, table.on_table)))
            cue = game != "kolkhoz" and draw(st.integers(0, 6)) == 0 and balls < table.on_table
            fouls = tuple(draw(st.lists(st.sampled_from(FOUL_KINDS), min_size=1, max_size=2))) if foul else ()
            one = Shot(shooter=table.shooter, balls=balls, cue=cue, fouls=fouls)
        try:
            match.record_shot(by="ann", key=key(), shot=one, now=NOW)
        except BilliardsError:
            pass
    return match


def fines_allowed(match: BilliardsMatch) -> list[int]:
    """The most each seat can have been fined, by the shots that stand."""
    worst = max(match.rules.ball_values or (1,))
    fined = [0] * len(match.players)
    for shot in match.shots:
        if shot["fouls"] or (shot["cue"] and match.rules.game == "kolkhoz"):
            fined[shot["shooter"]] += worst
    return fined


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a_played_match())
def test_no_score_goes_below_what_the_events_allow(match):
    fines = fines_allowed(match)
    for seat, score in enumerate(match.table.scores):
        if match.rules.game == "kolkhoz":
            assert score >= -fines[seat]
        else:
            assert score >= 0
    if match.rules.game == "american" and match.rules.foul_penalty == "opponent_point":
        legal = sum(
            s["balls"] + s["cue"] for s in match.shots if not s["fouls"]
        )
        fouls = sum(1 for s in match.shots if s["fouls"])
        assert sum(match.table.scores) == legal + fouls
        assert match.table.on_table == 16 - legal


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a_played_match())
def test_replaying_the_stored_events_gives_identical_standings(match):
    store = Store()
    store.save(match)
    replayed = store.repository.get(match.id)
    assert msgspec.json.encode(replayed.board()) == msgspec.json.encode(match.board())
    assert msgspec.json.encode(replayed.finished) == msgspec.json.encode(match.finished)
