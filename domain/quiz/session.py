"""A live session of a game: players join by invite code, the server runs each task, collects
answers and scores them. The state machine:

    lobby ──next──▶ question ──time up / all answered / skip──▶ results ──next──▶ question …
      │                │ pause ⇄ resume                           │ next after the last task
      └──────── end (the host, at any time) ──────────────────────┴──────────▶ ended

Answers are judged when they arrive (the streak bonus counts the right answers before this task)
and credited when the task closes (a skipped task credits nobody).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.quiz.errors import (
    AlreadyAnswered,
    BadPlayerToken,
    DeadlinePassed,
    GameStarted,
    NicknameTaken,
    NotAllowed,
    NoTasks,
    PlayerKicked,
    SessionEnded,
    SessionPaused,
    TaskNotCurrent,
    WrongPhase,
)
from domain.quiz.phases import (
    ENDED,
    LOBBY,
    MAX_PLAYERS,
    QUESTION,
    RESULTS,
    Answered,
    Standing,
    check_nickname,
    epoch_ms,
    ranked,
)
from domain.quiz.scoring import Scoring, judge, next_streak


class QuizSession(Aggregate):
    class Started(Aggregate.Created):
        game_id: UUID
        host: str
        admins: list[str]
        title: str
        tasks: list[dict[str, Any]]
        scoring: dict[str, Any]
        late_join: bool
        invite_code: str

    def __init__(
        self,
        game_id: UUID,
        host: str,
        admins: list[str],
        title: str,
        tasks: list[dict[str, Any]],
        scoring: dict[str, Any],
        late_join: bool,
        invite_code: str,
    ) -> None:
        self.game_id = game_id
        self.host = host
        self.admins = list(admins)
        self.title = title
        self.tasks = [dict(task) for task in tasks]
        self.scoring = dict(scoring)
        self.late_join = late_join
        self.invite_code = invite_code
        self.phase = LOBBY
        self.current = -1
        self.started_ms = 0
        self.deadline_ms = 0
        self.paused_remaining_ms: int | None = None
        # player id -> {nickname, token_hash, score, streak, time_ms, right, answered, kicked}
        self.players: dict[str, dict[str, Any]] = {}
        self.nicknames: dict[str, str] = {}
        # the current (or last closed) task's answers: player id -> [answer, elapsed_ms,
        # fraction, points, bonus]
        self.answers: dict[str, list[Any]] = {}
        self.closed_reason = ""

    @classmethod
    def start(
        cls,
        *,
        session_id: UUID,
        game_id: UUID,
        host: str,
        admins: Sequence[str],
        title: str,
        tasks: Sequence[Mapping[str, Any]],
        scoring: Mapping[str, Any],
        late_join: bool,
        invite_code: str,
        now: datetime,
    ) -> QuizSession:
        if not tasks:
            raise NoTasks("a game needs at least one task to be played")
        return cls._create(
            cls.Started,
            id=session_id,
            timestamp=now,
            game_id=game_id,
            host=host,
            admins=list(admins),
            title=title,
            tasks=[dict(task) for task in tasks],
            scoring=Scoring.of(scoring).to_dict(),
            late_join=late_join,
            invite_code=invite_code,
        )

    # -- queries ------------------------------------------------------------------------------

    def is_host(self, user: str | None) -> bool:
        return user is not None and (user == self.host or user in self.admins)

    @property
    def paused(self) -> bool:
        return self.paused_remaining_ms is not None

    def joinable(self) -> bool:
        return self.phase == LOBBY or (self.late_join and self.phase != ENDED)

    def active(self) -> list[str]:
        return [pid for pid, player in self.players.items() if not player["kicked"]]

    def task(self) -> dict[str, Any]:
        return self.tasks[self.current]

    def player(self, player_id: str, token_hash: str) -> dict[str, Any]:
        """The player whose token this is (a copy); refuses a wrong token or a kicked player."""
        player = self.players.get(player_id)
        if player is None or not hmac.compare_digest(player["token_hash"], token_hash):
            raise BadPlayerToken("no such player in this session, or a wrong token")
        if player["kicked"]:
            raise PlayerKicked("the host removed this player from the session")
        return dict(player)

    def standings(self) -> list[Standing]:
        """Active players, best first: by score, then by total answer time."""
        return ranked(self.players)

    # -- decisions ----------------------------------------------------------------------------

    def _host(self, user: str) -> None:
        if not self.is_host(user):
            raise NotAllowed("only the session's host may do that")
        if self.phase == ENDED:
            raise SessionEnded("the session has ended")

    def join(self, *, player_id: str, nickname: str, token_hash: str, now: datetime) -> None:
        if self.phase == ENDED:
            raise SessionEnded("the session has ended")
        if not self.joinable():
            raise GameStarted("the game has started: the invite code no longer works")
        nickname = check_nickname(nickname)
        if nickname.casefold() in self.nicknames:
            raise NicknameTaken(f"someone in this session is called {nickname!r} already")
        if len(self.players) >= MAX_PLAYERS:
            raise GameStarted(f"a session holds at most {MAX_PLAYERS} players")
        self.trigger_event(
            self.PlayerJoined,
            timestamp=now,
            player_id=player_id,
            nickname=nickname,
            token_hash=token_hash,
        )

    def kick(self, *, user: str, player_id: str, now: datetime) -> None:
        self._host(user)
        player = self.players.get(player_id)
        if player is None or player["kicked"]:
            raise BadPlayerToken("no such player in this session")
        self.trigger_event(self.PlayerKicked, timestamp=now, player_id=player_id)
        if self.phase == QUESTION and not self.paused and self._all_answered():
            self.trigger_event(self.TaskClosed, timestamp=now, index=self.current,
                               reason="all_answered")

    def next(self, *, user: str, now: datetime, index: int | None = None) -> str:
        """The next task, or the end after the last. `index`: the task the host means (the
        end: the task count); sent again once it started, nothing happens."""
        if index is not None and self.is_host(user) and (
            index <= self.current or (self.phase == ENDED and index >= len(self.tasks))
        ):
            return self.phase
        self._host(user)
        if self.phase == QUESTION:
            raise WrongPhase("a task is running: skip it or wait for it to close")
        if self.current + 1 >= len(self.tasks):
            self.trigger_event(self.Ended, timestamp=now, reason="finished")
            return ENDED
        index = self.current + 1
        started = epoch_ms(now)
        deadline = started + self.tasks[index]["time_limit_s"] * 1000
        self.trigger_event(
            self.TaskStarted, timestamp=now, index=index, started_ms=started, deadline_ms=deadline
        )
        return QUESTION

    def skip(self, *, user: str, now: datetime, index: int | None = None) -> None:
        """Close the running task without crediting anyone (`index`: the task meant; sent
        again once it closed, nothing happens)."""
        if index is not None and self.is_host(user) and (
            index < self.current or (index == self.current and self.phase != QUESTION)
        ):
            return
        self._host(user)
        if self.phase != QUESTION:
            raise WrongPhase("no task is running")
        self.trigger_event(self.TaskClosed, timestamp=now, index=self.current, reason="skipped")

    def pause(self, *, user: str, now: datetime) -> None:
        self._host(user)
        if self.phase != QUESTION or self.paused:
            raise WrongPhase("only a running task can be paused")
        remaining = max(0, self.deadline_ms - epoch_ms(now))
        self.trigger_event(self.Paused, timestamp=now, remaining_ms=remaining)

    def resume(self, *, user: str, now: datetime) -> None:
        self._host(user)
        if self.paused_remaining_ms is None:
            raise WrongPhase("the session is not paused")
        deadline = epoch_ms(now) + self.paused_remaining_ms
        self.trigger_event(self.Resumed, timestamp=now, deadline_ms=deadline)

    def end(self, *, user: str, now: datetime) -> None:
        self._host(user)
        self.trigger_event(self.Ended, timestamp=now, reason="host")

    def answer(
        self, *, player_id: str, index: int, answer: Any, delivered_ms: int | None, now: datetime
    ) -> Answered:
        """A player's answer to the running task. `delivered_ms`: when the server delivered the
        task to that player (its socket's write), so that their network is not their penalty."""
        if self.phase == ENDED:
            raise SessionEnded("the session has ended")
        if self.phase != QUESTION or index != self.current:
            raise TaskNotCurrent(f"task {index} is not the one running")
        if self.paused:
            raise SessionPaused("the host paused the session")
        now_ms = epoch_ms(now)
        if now_ms > self.deadline_ms:
            raise DeadlinePassed("the time for this task is up")
        player = self.players.get(player_id)
        if player is None:
            raise BadPlayerToken("no such player in this session")
        if player["kicked"]:
            raise PlayerKicked("the host removed this player from the session")
        if player_id in self.answers:
            raise AlreadyAnswered("you answered this task already: one answer each")
        since = self.started_ms if delivered_ms is None else delivered_ms
        since = min(max(since, self.started_ms), now_ms)
        elapsed = now_ms - since
        task = self.task()
        judged = judge(
            task, answer, elapsed_ms=elapsed, streak=player["streak"],
            scoring=Scoring.of(self.scoring),
        )
        self.trigger_event(
            self.AnswerSubmitted,
            timestamp=now,
            player_id=player_id,
            index=index,
            answer=answer,
            elapsed_ms=elapsed,
            fraction=judged.fraction,
            points=judged.points,
            bonus=judged.bonus,
        )
        closed = self._all_answered()
        if closed:
            self.trigger_event(self.TaskClosed, timestamp=now, index=index, reason="all_answered")
        return Answered(judged, elapsed, closed)

    def close_task(self, *, index: int, now: datetime) -> bool:
        """The time is up (the timer's command): closes the task, once; False if there was
        nothing to close (closed already, paused, or not yet due)."""
        if self.phase != QUESTION or self.current != index or self.paused:
            return False
        if epoch_ms(now) < self.deadline_ms:
            return False
        self.trigger_event(self.TaskClosed, timestamp=now, index=index, reason="time")
        return True

    def _all_answered(self) -> bool:
        active = self.active()
        return bool(active) and all(pid in self.answers for pid in active)

    def collect_events(self) -> Any:
        collected, self._pending_events = self._pending_events, []
        return collected

    # -- events -------------------------------------------------------------------------------

    class PlayerJoined(Aggregate.Event):
        player_id: str
        nickname: str
        token_hash: str

        def apply(self, session: QuizSession) -> None:
            session.players[self.player_id] = {
                "nickname": self.nickname,
                "token_hash": self.token_hash,
                "score": 0,
                "streak": 0,
                "time_ms": 0,
                "right": 0,
                "answered": 0,
                "kicked": False,
            }
            session.nicknames[self.nickname.casefold()] = self.player_id

    class PlayerKicked(Aggregate.Event):
        player_id: str

        def apply(self, session: QuizSession) -> None:
            session.players[self.player_id]["kicked"] = True

    class TaskStarted(Aggregate.Event):
        index: int
        started_ms: int
        deadline_ms: int

        def apply(self, session: QuizSession) -> None:
            session.phase = QUESTION
            session.current = self.index
            session.started_ms = self.started_ms
            session.deadline_ms = self.deadline_ms
            session.paused_remaining_ms = None
            session.answers = {}
            session.closed_reason = ""

    class AnswerSubmitted(Aggregate.Event):
        player_id: str
        index: int
        answer: Any
        elapsed_ms: int
        fraction: float | None
        points: int
        bonus: int

        def apply(self, session: QuizSession) -> None:
            session.answers[self.player_id] = [
                self.answer, self.elapsed_ms, self.fraction, self.points, self.bonus
            ]

    class TaskClosed(Aggregate.Event):
        index: int
        reason: str

        def apply(self, session: QuizSession) -> None:
            session.phase = RESULTS
            session.paused_remaining_ms = None
            session.closed_reason = self.reason
            if self.reason == "skipped":
                return
            poll = session.tasks[self.index]["kind"] == "poll"
            for pid, player in session.players.items():
                given = session.answers.get(pid)
                if given is not None:
                    player["score"] += given[3] + given[4]
                    player["time_ms"] += given[1]
                    player["answered"] += 1
                    player["right"] += given[2] == 1.0
                if not poll and not player["kicked"]:
                    fraction = None if given is None else given[2]
                    player["streak"] = next_streak(player["streak"], fraction, given is not None)

    class Paused(Aggregate.Event):
        remaining_ms: int

        def apply(self, session: QuizSession) -> None:
            session.paused_remaining_ms = self.remaining_ms

    class Resumed(Aggregate.Event):
        deadline_ms: int

        def apply(self, session: QuizSession) -> None:
            session.paused_remaining_ms = None
            session.deadline_ms = self.deadline_ms

    class Ended(Aggregate.Event):
        reason: str

        def apply(self, session: QuizSession) -> None:
            session.phase = ENDED
            session.paused_remaining_ms = None
