"""OpenSkill's Plackett–Luce update (`openskill.models.PlackettLuce().rate`, default parameters)
for teams of one player each, on plain floats. Pure.

The same operations in the same order as openskill 6's `rate(teams, ranks=…)`, so each μ and σ
is bit-for-bit what it returns (`tests/unit/billiards/test_plackett_luce.py` checks that on
many random matches): without its argument checks, its deep copy of the teams and a rating
object (with a random id) per player, which took most of a rebuild's rating time.

openskill 6 averages the μ changes of tied teams after the update, but measures each change
against the rating object it has just overwritten: every change it averages is 0.0, and the
averaging leaves each μ as it is. So does this.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MU = 25.0
SIGMA = 25.0 / 3.0
BETA = 25.0 / 6.0
KAPPA = 0.0001
TAU = 25.0 / 300.0

_TAU_SQUARED = TAU * TAU
_BETA_SQUARED = BETA**2


def rate(
    players: Sequence[tuple[float, float]], ranks: Sequence[float]
) -> list[tuple[float, float]]:
    """Each player's (μ, σ) after a match in which player `i` took place `ranks[i]` (lower is
    better, equal a tie), in the players' order."""
    count = len(players)
    order = sorted(range(count), key=ranks.__getitem__)  # stable, as openskill's sort
    places = [int(ranks[i]) for i in order]
    mus = [players[i][0] for i in order]
    sigmas = []
    sigmas_squared = []
    for i in order:
        sigma = players[i][1]
        sigma = math.sqrt(sigma * sigma + _TAU_SQUARED)
        sigmas.append(sigma)
        sigmas_squared.append(0.0 + (sigma * 1.0) ** 2)
    team_mus = [0.0 + mu * 1.0 for mu in mus]

    collective = 0.0
    for sigma_squared in sigmas_squared:
        collective += sigma_squared + _BETA_SQUARED
    c = math.sqrt(collective)

    exps = [math.exp(mu / c) for mu in team_mus]
    sum_q = [0.0] * count
    for i in range(count):
        for q in range(count):
            if places[i] >= places[q]:
                sum_q[q] += exps[i]
    tied = [places.count(place) for place in places]

    rated: list[tuple[float, float]] = [(0.0, 0.0)] * count
    for i in range(count):
        omega = 0.0
        delta = 0.0
        mine = exps[i]
        for q in range(count):
            share = mine / sum_q[q]
            if places[q] <= places[i]:
                delta += share * (1 - share) / tied[q]
                if q == i:
                    omega += (1 - share) / tied[q]
                else:
                    omega -= share / tied[q]
        sigma_squared = sigmas_squared[i]
        omega *= sigma_squared / c
        delta *= sigma_squared / c**2
        delta *= math.sqrt(sigma_squared) / c

        mu, sigma = mus[i], sigmas[i]
        part = sigma**2 / sigma_squared
        if omega >= 0:
            mu += part * omega * 1.0
            sigma *= math.sqrt(max(1 - part * delta * 1.0, KAPPA))
        else:
            mu += part * omega / 1.0
            sigma *= math.sqrt(max(1 - part * delta / 1.0, KAPPA))
        rated[order[i]] = (mu + 0.0 if tied[i] > 1 else mu, sigma)
    return rated
