"""The projection's Plackett–Luce update gives exactly what openskill's own `rate()` gives."""

from __future__ import annotations

import random

import pytest
from openskill.models import PlackettLuce

from projections.billiards import plackett_luce


def openskill_rate(
    players: list[tuple[float, float]], ranks: list[float]
) -> list[tuple[float, float]]:
    model = PlackettLuce()
    teams = [[model.create_rating([mu, sigma])] for mu, sigma in players]
    return [(new.mu, new.sigma) for [new] in model.rate(teams, ranks=ranks)]


def a_rating(rng: random.Random) -> tuple[float, float]:
    if rng.random() < 0.2:
        return plackett_luce.MU, plackett_luce.SIGMA  # a player's first match
    return rng.uniform(-5.0, 55.0), rng.uniform(0.05, 9.0)


def places(rng: random.Random, count: int) -> list[float]:
    """Final standings: 1.. with ties (a shared place), in any seat order."""
    drawn = sorted(rng.randint(1, count) for _ in range(count))
    standings = [float(1 + drawn.index(d)) for d in drawn]  # competition ranking: 1, 1, 3
    rng.shuffle(standings)
    return standings


@pytest.mark.parametrize("count", [2, 3, 4])
def test_the_update_is_bit_for_bit_openskill_on_random_matches(count):
    rng = random.Random(count)
    for _ in range(3000):
        players = [a_rating(rng) for _ in range(count)]
        ranks = places(rng, count)
        assert plackett_luce.rate(players, ranks) == openskill_rate(players, ranks), (
            players, ranks)


def test_the_defaults_are_openskills():
    model = PlackettLuce()
    assert (plackett_luce.MU, plackett_luce.SIGMA) == (model.mu, model.sigma)
    assert (plackett_luce.BETA, plackett_luce.KAPPA, plackett_luce.TAU) == (
        model.beta, model.kappa, model.tau)


def test_a_draw_and_a_long_run_of_matches_stay_equal():
    rng = random.Random(5)
    mine = theirs = [(plackett_luce.MU, plackett_luce.SIGMA)] * 2
    for _ in range(500):  # σ shrinks toward its floor: the small values are covered too
        ranks = rng.choice([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0]])
        mine, theirs = plackett_luce.rate(mine, ranks), openskill_rate(theirs, ranks)
        assert mine == theirs
