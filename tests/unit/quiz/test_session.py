from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot

from domain.quiz.errors import (
    AlreadyAnswered,
    BadPlayerToken,
    DeadlinePassed,
    GameStarted,
    InvalidNickname,
    NicknameTaken,
    NotAllowed,
    NoTasks,
    PlayerKicked,
    SessionEnded,
    SessionPaused,
    TaskNotCurrent,
    WrongPhase,
)
from domain.quiz.phases import epoch_ms
from domain.quiz.session import ENDED, LOBBY, QUESTION, RESULTS, QuizSession
from tests.factories import T0, at
from tests.unit.quiz.quiz_factories import a_session, a_single, with_players


def started(*names: str, **options) -> QuizSession:
    session = with_players(a_session(**options), *names)
    session.next(user="host", now=at(1000))
    return session


def replayed(session: QuizSession) -> QuizSession:
    events = session.collect_events()
    copy = None
    for event in events:
        copy = event.mutate(copy)
    assert isinstance(copy, QuizSession)
    return copy


def test_a_session_starts_in_the_lobby_with_its_invite_code():
    session = a_session()
    assert (session.phase, session.invite_code, session.current) == (LOBBY, "ABCDEF", -1)


def test_a_game_without_tasks_cannot_be_played():
    with pytest.raises(NoTasks):
        a_session(tasks=[])


def test_nicknames_are_unique_within_a_session_whatever_their_case():
    session = with_players(a_session(), "ann")
    with pytest.raises(NicknameTaken):
        session.join(player_id="p2", nickname="  ANN ", token_hash="h", now=T0)


def test_an_empty_or_long_nickname_is_refused():
    for nickname in ("   ", "x" * 25):
        with pytest.raises(InvalidNickname):
            a_session().join(player_id="p", nickname=nickname, token_hash="h", now=T0)


def test_the_code_stops_working_once_the_game_started():
    session = started("ann")
    with pytest.raises(GameStarted):
        session.join(player_id="bob", nickname="Bob", token_hash="h", now=at(2000))


def test_a_late_join_works_when_the_host_allowed_it():
    session = started("ann", late_join=True)
    session.join(player_id="bob", nickname="Bob", token_hash="h", now=at(2000))
    assert "bob" in session.players


def test_only_the_host_or_an_admin_runs_the_session():
    session = with_players(a_session(), "ann")
    with pytest.raises(NotAllowed):
        session.next(user="ann", now=at(1))
    session.next(user="helper", now=at(1))
    assert session.phase == QUESTION


def test_the_task_starts_with_its_deadline_in_server_time():
    session = started("ann")
    assert session.started_ms == epoch_ms(at(1000))
    assert session.deadline_ms == epoch_ms(at(21_000))


def test_answers_are_scored_from_delivery_and_credited_when_the_task_closes():
    session = started("ann", "bob")
    task_start = session.started_ms
    ann = session.answer(player_id="ann", index=0, answer=0, delivered_ms=task_start + 2000,
                         now=at(1000 + 2300))
    assert (ann.elapsed_ms, ann.judged.points, ann.closed) == (300, 1000, False)
    assert session.players["ann"]["score"] == 0  # not before the task closes
    bob = session.answer(player_id="bob", index=0, answer=1, delivered_ms=None, now=at(11_000))
    assert (bob.judged.points, bob.closed) == (0, True)  # everyone answered: closed
    assert session.phase == RESULTS
    assert (session.players["ann"]["score"], session.players["ann"]["streak"]) == (1000, 1)
    assert session.players["bob"]["streak"] == 0


def test_a_second_answer_is_refused():
    session = started("ann", "bob")
    session.answer(player_id="ann", index=0, answer=0, delivered_ms=None, now=at(2000))
    with pytest.raises(AlreadyAnswered):
        session.answer(player_id="ann", index=0, answer=1, delivered_ms=None, now=at(2100))


def test_an_answer_after_the_deadline_is_refused():
    session = started("ann")
    with pytest.raises(DeadlinePassed):
        session.answer(player_id="ann", index=0, answer=0, delivered_ms=None, now=at(21_001))


def test_an_answer_to_a_task_that_is_not_current_is_refused():
    session = started("ann")
    with pytest.raises(TaskNotCurrent):
        session.answer(player_id="ann", index=1, answer=0, delivered_ms=None, now=at(2000))
    with pytest.raises(TaskNotCurrent):
        with_players(a_session(), "ann").answer(
            player_id="ann", index=0, answer=0, delivered_ms=None, now=at(2000)
        )


def test_a_delivery_time_claimed_before_the_start_or_after_the_answer_is_clamped():
    session = started("ann", "bob")
    early = session.answer(player_id="ann", index=0, answer=0, delivered_ms=0, now=at(11_000))
    assert early.elapsed_ms == 10_000
    late = session.answer(player_id="bob", index=0, answer=0, delivered_ms=10**15,
                          now=at(11_000))
    assert late.elapsed_ms == 0


def test_the_timer_closes_the_task_once_and_only_when_due():
    session = started("ann")
    assert session.close_task(index=0, now=at(20_999)) is False
    assert session.close_task(index=0, now=at(21_000)) is True
    assert session.close_task(index=0, now=at(21_001)) is False
    assert session.players["ann"]["streak"] == 0  # no answer resets


def test_streaks_grow_over_tasks_and_add_their_bonus():
    session = started("ann")
    totals = []
    for index in range(3):
        right = session.task()["options"].index(
            next(o for o in session.task()["options"] if o["correct"])
        )
        session.answer(player_id="ann", index=index, answer=right, delivered_ms=None,
                       now=at(1000 + 40_000 * index + 100))
        totals.append(session.players["ann"]["score"])
        if index < 2:
            session.next(user="host", now=at(1000 + 40_000 * (index + 1)))
    assert totals == [1000, 2100, 3300]


def test_skipping_a_task_credits_nobody():
    session = started("ann", "bob")
    session.answer(player_id="ann", index=0, answer=0, delivered_ms=None, now=at(1100))
    session.skip(user="host", now=at(1200))
    assert (session.phase, session.players["ann"]["score"]) == (RESULTS, 0)


def test_a_paused_task_takes_no_answers_and_resumes_with_the_time_it_had_left():
    session = started("ann")
    session.pause(user="host", now=at(6000))
    with pytest.raises(SessionPaused):
        session.answer(player_id="ann", index=0, answer=0, delivered_ms=None, now=at(7000))
    assert session.close_task(index=0, now=at(60_000)) is False
    session.resume(user="host", now=at(100_000))
    assert session.deadline_ms == epoch_ms(at(100_000)) + 15_000
    with pytest.raises(WrongPhase):
        session.resume(user="host", now=at(100_001))


def test_a_kicked_player_cannot_rejoin_or_answer_and_is_left_off_the_board():
    session = started("ann", "bob")
    session.kick(user="host", player_id="bob", now=at(1500))
    with pytest.raises(PlayerKicked):
        session.player("bob", "hash-bob")
    with pytest.raises(PlayerKicked):
        session.answer(player_id="bob", index=0, answer=0, delivered_ms=None, now=at(1600))
    assert [s.player_id for s in session.standings()] == ["ann"]


def test_kicking_the_last_one_who_had_not_answered_closes_the_task():
    session = started("ann", "bob")
    session.answer(player_id="ann", index=0, answer=0, delivered_ms=None, now=at(1100))
    session.kick(user="host", player_id="bob", now=at(1200))
    assert session.phase == RESULTS


def test_rejoining_needs_the_players_token():
    session = with_players(a_session(), "ann")
    assert session.player("ann", "hash-ann")["nickname"] == "Ann"
    with pytest.raises(BadPlayerToken):
        session.player("ann", "hash-bob")
    with pytest.raises(BadPlayerToken):
        session.player("nobody", "hash-ann")


def test_next_after_the_last_task_ends_the_session_and_nothing_runs_after():
    session = started("ann")
    for index in range(3):
        session.skip(user="host", now=at(2000 + index))
        session.next(user="host", now=at(3000 + index))
    assert session.phase == ENDED
    with pytest.raises(SessionEnded):
        session.next(user="host", now=at(9000))
    with pytest.raises(SessionEnded):
        session.join(player_id="x", nickname="X", token_hash="h", now=at(9000))


def test_ties_are_broken_by_total_answer_time():
    session = started("ann", "bob")
    session.answer(player_id="bob", index=0, answer=0, delivered_ms=None, now=at(1200))
    session.answer(player_id="ann", index=0, answer=0, delivered_ms=None, now=at(1400))
    assert [(s.player_id, s.score, s.rank) for s in session.standings()] == [
        ("bob", 1000, 1), ("ann", 1000, 2)]


def test_the_whole_game_replays_from_its_events_to_the_same_state():
    session = started("ann", "bob")
    session.answer(player_id="ann", index=0, answer=0, delivered_ms=None, now=at(3000))
    session.close_task(index=0, now=at(21_000))
    copy = replayed(session)
    assert copy.players == session.players
    assert (copy.phase, copy.current, copy.answers) == (session.phase, 0, session.answers)


def test_a_snapshot_restores_the_session():
    session = started("ann")
    session.collect_events()
    snapshot = Snapshot.take(session)
    restored = snapshot.mutate(None)
    assert restored.players == session.players and restored.tasks == session.tasks


def test_a_session_keeps_the_tasks_it_started_with():
    tasks = [a_single("only")]
    session = QuizSession.start(session_id=uuid4(), game_id=uuid4(), host="h", admins=[],
                                title="t", tasks=tasks, scoring={}, late_join=False,
                                invite_code="ABCDEF", now=T0)
    tasks[0]["text"] = "changed later"
    assert session.tasks[0]["text"] == "Which?"


def test_next_and_skip_sent_again_with_their_task_do_nothing_more():
    session = with_players(a_session(), "ann")
    session.next(user="host", now=at(1000), index=0)
    session.next(user="host", now=at(1001), index=0)
    assert (session.current, session.phase) == (0, QUESTION)
    session.skip(user="host", now=at(1002), index=0)
    version = session.version
    session.skip(user="host", now=at(1003), index=0)
    session.next(user="host", now=at(1004), index=0)
    assert session.version == version and session.phase == RESULTS
