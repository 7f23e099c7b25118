"""Final standings: places, results and, in Колхоз, the settlement at the stake per point.

Колхоз "direct" scoring: a player's result is his points minus the points of the player who
shoots after him (the results add up to zero). "plain": his own points, settled pairwise (each
pays each other the difference), so the money adds up to zero too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.billiards.play import Table
from domain.billiards.rules import KOLKHOZ, Rules

TARGET = "target"
TABLE_CLEARED = "table_cleared"
DRAW = "draw"
RESIGNED = "resigned"
STOPPED = "stopped"
REASONS = (TARGET, TABLE_CLEARED, DRAW, RESIGNED, STOPPED)


def results(rules: Rules, table: Table) -> list[int]:
    """Per seat: what the standings rank by."""
    scores = list(table.scores)
    if rules.game != KOLKHOZ or rules.scoring == "plain":
        return scores
    order = table.order
    after = {order[i]: order[(i + 1) % len(order)] for i in range(len(order))}
    return [scores[seat] - scores[after[seat]] for seat in range(len(scores))]


def money(rules: Rules, table: Table) -> list[int]:
    """Per seat: what he wins (positive) or pays (negative), only shown."""
    if rules.game != KOLKHOZ:
        return [0] * len(table.scores)
    if rules.scoring == "direct":
        return [result * rules.stake for result in results(rules, table)]
    scores = table.scores
    total = sum(scores)
    return [(len(scores) * own - total) * rules.stake for own in scores]


def standings(
    rules: Rules,
    table: Table,
    names: Sequence[str],
    reason: str,
    *,
    winner: int | None = None,
    resigned: int | None = None,
) -> list[dict[str, Any]]:
    """One entry per seat, best first: seat, name, score, result, money, place.

    `winner` decides first place when the match ended by target; a seat that `resigned` comes
    last; otherwise seats rank by result, equal results sharing a place (a draw)."""
    ranked = results(rules, table)
    paid = money(rules, table)

    def rank(seat: int) -> tuple[int, int, int]:
        return (
            0 if seat == winner else 1,
            1 if seat == resigned else 0,
            -ranked[seat],
        )

    seats = sorted(range(len(names)), key=lambda seat: (rank(seat), table.order.index(seat)))
    entries: list[dict[str, Any]] = []
    place = 0
    previous: tuple[int, int, int] | None = None
    for position, seat in enumerate(seats, start=1):
        key = rank(seat)
        if reason == DRAW:
            key = (1, 0, 0)
        if key != previous:
            place = position
            previous = key
        entries.append(
            {
                "seat": seat,
                "name": names[seat],
                "score": table.scores[seat],
                "result": ranked[seat],
                "money": paid[seat],
                "place": place,
            }
        )
    return entries
