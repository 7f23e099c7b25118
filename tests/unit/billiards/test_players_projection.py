"""The players projection on hand-made matches: stats, head-to-head, ratings by OpenSkill
Plackett–Luce, undoing a finishing shot, seasons, and a rebuild equal to the live values."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from openskill.models import PlackettLuce

from commands.billiards.billiards import Billiards
from domain.billiards.errors import InvalidSeason, UnknownGame
from domain.billiards.match import BilliardsMatch
from domain.billiards.seasons import ALL, check_game, check_season, season_of
from projections.billiards.ledger import Ledger
from projections.billiards.players import PlayersProjection
from projections.billiards.ratings import bucket_of, ordinal
from projections.recorded import Columns, Recorded
from tests.unit.billiards.factories import NOW, a_match, key, play_all, shot

SEASON = "2026-12"


@pytest.fixture
def store():
    app = Billiards(clock=lambda: NOW)
    yield app
    app.close()


def events_of(app: Billiards, start: int = 1) -> list[Recorded]:
    return [
        Recorded(n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in app.recorder.select_notifications(start=start, limit=100_000)
    ]


def projected(app: Billiards) -> PlayersProjection:
    projection = PlayersProjection()
    for event in events_of(app):
        projection.apply(event)
    return projection


def as_columns(events: list[Recorded]) -> Columns:
    """The page a rebuild reads as columns (`StoreReader.read_columns`)."""
    topics = tuple(dict.fromkeys(e.topic for e in events))
    return Columns(
        topics,
        np.array([e.notification_id for e in events], np.int64),
        np.array([e.originator_version for e in events], np.int64),
        np.array([topics.index(e.topic) for e in events], np.intp),
        np.frombuffer(b"".join(e.originator_id.bytes for e in events), "<u8").reshape(-1, 2),
        np.cumsum([len(e.state) for e in events]),
        b"".join(e.state for e in events),
    )


def american_won_by_ann(app: Billiards) -> BilliardsMatch:
    """Ann: 3, 2, miss (a turn of 5); Bob: 1, a foul (Ann +1); Ann: 2 and wins at 8."""
    match = play_all(a_match(), [
        shot(0, 3), shot(0, 2), shot(0, 0), shot(1, 1), shot(1, 0, fouls=["miss"]), shot(0, 2),
    ])
    app.save(match)
    return match


def test_stats_count_balls_fouls_turns_and_the_best_run(store):
    american_won_by_ann(store)
    books = projected(store).stats.players
    ann, bob = books[("ann", "american")], books[("bob", "american")]
    assert (ann.matches, ann.wins, ann.losses, ann.draws) == (1, 1, 0, 0)
    assert (ann.balls, ann.fouls, ann.turns, ann.best_run) == (7, 0, 2, 5)
    assert (bob.matches, bob.wins, bob.losses, bob.draws) == (1, 0, 1, 0)
    assert (bob.balls, bob.fouls, bob.turns, bob.best_run) == (1, 1, 1, 1)
    assert (ann.streak, ann.longest_streak, bob.streak) == (1, 1, 0)


def test_a_win_streak_ends_with_a_loss_and_the_longest_stays(store):
    for winner in (0, 0, 1, 0):
        store.save(play_all(a_match(), [shot(winner, 8)] if winner == 0 else [shot(0, 0), shot(1, 8)]))
    ann = projected(store).stats.players[("ann", "american")]
    assert (ann.matches, ann.wins, ann.losses) == (4, 3, 1)
    assert (ann.streak, ann.longest_streak) == (1, 2)


def test_an_agreed_draw_is_a_draw_for_both(store):
    match = play_all(a_match("moscow"), [shot(0, 1), shot(0, 0), shot(1, 1)])
    match.agree_draw(by="ann", key=key(), now=NOW)
    store.save(match)
    books = projected(store).stats.players
    assert books[("ann", "moscow")].draws == books[("bob", "moscow")].draws == 1
    assert books[("ann", "moscow")].streak == 0


def test_head_to_head_counts_each_opponent_by_place(store):
    # Колхоз, plain scoring: Ann 2 balls, Bob 1, Cat none; stopped: Ann 1st, Bob 2nd, Cat 3rd
    match = play_all(
        a_match("kolkhoz", 3, {"scoring": "plain"}),
        [shot(0, 1), shot(0, 1), shot(0, 0), shot(1, 1),
         shot(1, 0), shot(2, 0)],
    )
    match.stop(by="ann", key=key(), now=NOW)
    store.save(match)
    projection = projected(store)
    versus = projection.stats.collect()[1]
    assert versus[("ann", "kolkhoz", "bob")][:4] == [1, 1, 0, 0]
    assert versus[("bob", "kolkhoz", "ann")][:4] == [1, 0, 1, 0]
    assert versus[("bob", "kolkhoz", "cat")][:4] == [1, 1, 0, 0]
    assert versus[("cat", "kolkhoz", "ann")][:4] == [1, 0, 1, 0]


def test_a_one_on_one_rating_is_openskill_plackett_luce_by_result(store):
    american_won_by_ann(store)
    ratings = projected(store).ratings
    model = PlackettLuce()
    [[winner], [loser]] = model.rate([[model.rating()], [model.rating()]], ranks=[1, 2])
    for season in (ALL, SEASON):
        ann, bob = ratings.get("american", season, "ann"), ratings.get("american", season, "bob")
        assert ann is not None and bob is not None
        assert (ann.mu, ann.sigma) == (winner.mu, winner.sigma)
        assert (bob.mu, bob.sigma) == (loser.mu, loser.sigma)
    assert round(winner.mu, 4) == 27.6354 and round(loser.mu, 4) == 22.3646
    assert ann.ordinal == ordinal(winner.mu, winner.sigma) and ann.matches == 1


def test_kolkhoz_rates_by_final_standings_with_ties(store):
    # plain scoring: Ann and Bob 1 ball each, Cat none: Ann and Bob share first place
    match = play_all(
        a_match("kolkhoz", 3, {"scoring": "plain"}),
        [shot(0, 1), shot(0, 0), shot(1, 1), shot(1, 0), shot(2, 0)],
    )
    match.stop(by="ann", key=key(), now=NOW)
    store.save(match)
    projection = projected(store)
    ann, bob, cat = (projection.ratings.get("kolkhoz", ALL, p) for p in ("ann", "bob", "cat"))
    assert ann is not None and bob is not None and cat is not None
    assert ann.mu == bob.mu > 25 > cat.mu
    assert projection.stats.players[("ann", "kolkhoz")].draws == 1
    assert projection.stats.players[("cat", "kolkhoz")].losses == 1


def test_guests_are_neither_rated_nor_counted(store):
    match = BilliardsMatch.create(
        match_id=a_match().id, template_id=a_match().template_id, template_version=1,
        template_name="american", rules=a_match().rules,
        players=[{"name": "Ann", "account": "ann"}, {"name": "Guest", "account": None}],
        order=[0, 1], creator="ann", invite_hash="h", now=NOW,
    )
    store.save(play_all(match, [shot(0, 8)]))
    projection = projected(store)
    assert projection.ratings.get("american", ALL, "ann") is None
    assert projection.stats.players[("ann", "american")].wins == 1
    assert projection.stats.collect()[1] == {}


def test_undoing_the_finishing_shot_takes_the_match_back_exactly(store):
    american_won_by_ann(store)
    before = projected(store)
    match = american_won_by_ann(store)
    match.undo(by="ann", key=key(), now=NOW)
    store.save(match)
    after = projected(store)
    assert after.stats.players == before.stats.players
    assert after.ratings.boards == before.ratings.boards
    play_all(match, [shot(0, 2)])
    store.save(match)
    again = projected(store).stats.players[("ann", "american")]
    assert (again.matches, again.wins, again.streak) == (2, 2, 2)


def test_undo_removes_the_history_row_and_the_rating_change(store):
    match = american_won_by_ann(store)
    match.undo(by="ann", key=key(), now=NOW)
    store.save(match)
    changes = projected(store).collect()
    assert changes.history[("ann", match.id)] is None
    assert changes.rating_changes[(match.id, "ann", ALL)] is None
    assert [row for _, _, row in changes.stats] == [None, None]
    assert changes.ratings and all(rating is None for _, rating, _ in changes.ratings)
    assert changes.buckets == {}


def test_a_season_board_starts_over_each_month(store):
    november = NOW - timedelta(days=10)
    first = a_match()
    first.record_shot(by="ann", key=key(), shot=shot(0, 8), now=november)
    store.save(first)
    american_won_by_ann(store)
    ratings = projected(store).ratings
    assert ratings.get("american", "2026-11", "ann").matches == 1  # type: ignore[union-attr]
    assert ratings.get("american", SEASON, "ann").matches == 1  # type: ignore[union-attr]
    assert ratings.get("american", ALL, "ann").matches == 2  # type: ignore[union-attr]


def test_a_rebuild_in_other_batches_gives_exactly_the_live_values(store):
    for n in range(12):
        winner = n % 3 == 0
        store.save(play_all(a_match(), [shot(0, 8)] if winner else [shot(0, 0), shot(1, 8)]))
    undone = american_won_by_ann(store)
    undone.undo(by="ann", key=key(), now=NOW)
    store.save(undone)
    events = events_of(store)
    live = PlayersProjection()
    for n, event in enumerate(events):
        live.apply(event)
        if n % 7 == 0:  # a restart: the ledger as the view keeps it
            rows, _ = live.ledger.collect()
            ledger = Ledger()
            ledger.restore(rows)
            live.ledger = ledger
    rebuilt = projected(store)
    assert live.ratings.boards == rebuilt.ratings.boards
    assert live.stats.players == rebuilt.stats.players
    ann = rebuilt.ratings.get("american", ALL, "ann")
    assert ann is not None and ann.matches == 12


def test_a_page_read_as_columns_counts_as_the_same_events_one_by_one(store):
    ann_wins, kolkhoz = a_match(), a_match("kolkhoz", 3, {"scoring": "plain"})
    store.save(play_all(ann_wins, [shot(0, 3), shot(0, 2), shot(0, 0)]))
    store.save(play_all(kolkhoz, [shot(0, 1), shot(0, 1), shot(0, 0, fouls=["miss"])]))
    store.save(play_all(ann_wins, [shot(1, 1), shot(1, 0, fouls=["miss"]), shot(0, 2)]))
    play_all(kolkhoz, [shot(1, 1), shot(1, 0), shot(2, 0)])
    kolkhoz.stop(by="ann", key=key(), now=NOW)
    store.save(kolkhoz)
    undone = american_won_by_ann(store)
    undone.undo(by="ann", key=key(), now=NOW)
    store.save(play_all(undone, [shot(0, 1)]))
    events = events_of(store)
    one_by_one, as_read = PlayersProjection(), PlayersProjection()
    one_by_one.apply_page(events)
    as_read.apply_columns(as_columns(events))
    assert as_read.ledger.matches == one_by_one.ledger.matches
    assert as_read.stats.players == one_by_one.stats.players
    assert as_read.ratings.boards == one_by_one.ratings.boards
    mine, theirs = as_read.collect(), one_by_one.collect()
    assert mine.history == theirs.history and mine.rating_changes == theirs.rating_changes
    assert sorted(mine.matches) == sorted(theirs.matches)
    assert as_read.ratings.get("kolkhoz", ALL, "cat") is not None


def test_bucket_counts_follow_each_rating():
    projection = PlayersProjection()
    app = Billiards(clock=lambda: NOW)
    try:
        american_won_by_ann(app)
        for event in events_of(app):
            projection.apply(event)
    finally:
        app.close()
    changes = projection.collect()
    ann = projection.ratings.get("american", ALL, "ann")
    assert ann is not None
    assert changes.buckets[("american", ALL, bucket_of(ann.ordinal))] == 1
    assert sum(changes.buckets.values()) == 4  # two players on two boards


def test_seasons_and_games_are_checked():
    assert season_of(NOW) == SEASON and season_of(NOW, 3) == "2026-10"
    assert check_season("2026-04", 3) == "2026-04" and check_season(ALL) == ALL
    for bad in ("2026-13", "26-01", "last", "2026-05"):
        with pytest.raises(InvalidSeason):
            check_season(bad, 3 if bad == "2026-05" else 1)
    with pytest.raises(UnknownGame):
        check_game("snooker")
