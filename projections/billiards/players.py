"""The players read model's projection: the ledger of matches hands each finished match to the
stats and the ratings, and each match reopened by an undo back to them. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from projections.billiards.ledger import (
    TOPIC_SHOT,
    TOPICS,
    Counted,
    Ledger,
    Outcome,
    Uncounted,
)
from projections.billiards.ratings import Rating, RatingBook, RatingChange, RatingKey
from projections.billiards.stats import HeadToHeadKey, HistoryRow, PlayerStats, StatsBook
from projections.recorded import Columns, Recorded


class PlayersChanges(msgspec.Struct):
    """What one batch changed, for the view to write (None: a row to delete)."""

    matches: list[tuple[UUID, int | None, bytes]]
    forgotten: list[UUID]
    stats: list[tuple[str, str, PlayerStats | None]]
    head_to_head: dict[HeadToHeadKey, list[object]]
    history: dict[tuple[str, UUID], HistoryRow | None]
    ratings: list[tuple[RatingKey, Rating | None, int | None]]
    buckets: dict[tuple[str, str, int], int]
    rating_changes: dict[tuple[UUID, str, str], RatingChange | None]
    counted: list[UUID]
    """Matches counted (or taken back) in this batch."""


class PlayersProjection:
    topics: tuple[str, ...] = TOPICS

    def __init__(self, season_months: int = 1) -> None:
        self.ledger = Ledger()
        self.stats = StatsBook()
        self.ratings = RatingBook(season_months)
        self.counted: list[UUID] = []

    def apply(self, event: Recorded) -> None:
        self.apply_page((event,))

    def apply_page(self, events: Sequence[Recorded]) -> None:
        """Most events only add a shot to the ledger: the loop asks it alone, and counts only
        what it hands over."""
        ledger = self.ledger.apply
        for event in events:
            outcome = ledger(event)
            if outcome is not None:
                self._count(outcome)

    def apply_columns(self, page: Columns) -> None:
        """`apply_page` for a page read as columns (a rebuild): each run of shots in one match
        is decoded at once, without an object per event."""
        shot = page.topics.index(TOPIC_SHOT) if TOPIC_SHOT in page.topics else -1
        ledger = self.ledger
        for start, stop in page.runs():
            if page.topic_codes[start] == shot:
                ledger.apply_shots(page.originator(start), page.state_span(start, stop), stop - start)
                continue
            for i in range(start, stop):
                outcome = ledger.apply(page.event(i))
                if outcome is not None:
                    self._count(outcome)

    def _count(self, outcome: Outcome) -> None:
        match outcome:
            case Counted(match_id, followed) if followed.finish is not None:
                self.stats.count(match_id, followed, followed.finish)
                self.ratings.count(match_id, followed, followed.finish)
                self.counted.append(match_id)
            case Uncounted(match_id, followed, finish):
                self.ratings.uncount(match_id, followed, finish)
                self.stats.uncount(match_id, followed, finish)
                self.counted.append(match_id)

    def collect(self) -> PlayersChanges:
        matches, forgotten = self.ledger.collect()
        stats, head_to_head, history = self.stats.collect()
        ratings, buckets, changes = self.ratings.collect()
        counted, self.counted = self.counted, []
        return PlayersChanges(
            matches, forgotten, stats, head_to_head, history, ratings, buckets, changes, counted
        )
