"""A session's report as it was at one of its versions: the rows the report is built from
(`infra.quiz.sessions_view`), folded from the session's events in the store up to that version
instead of read from the read model."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import msgspec

from domain.quiz.phases import ENDED, LOBBY, QUESTION, RESULTS
from domain.quiz.session import QuizSession
from infra.quiz.sessions_view import SessionRow


class SessionEvents(Protocol):
    """The quiz context's event store (`Quizzes.events`), as this asks it."""

    def get(self, originator_id: UUID, *, lte: int | None = None) -> Iterable[Any]: ...


class PastSession(NamedTuple):
    version: int
    """The session's last version at or before the one asked (its latest when fewer)."""
    session: SessionRow
    players: list[tuple[str, str, bool]]
    answers: list[tuple[str, int, str, int, float | None, int, int]]
    closed: dict[int, str]


def session_at(events: SessionEvents, session_id: UUID, version: int) -> PastSession | None:
    """The session's report rows as they were at `version` (None: no such session)."""
    history = list(events.get(session_id, lte=version))
    started = history[0] if history else None
    if not isinstance(started, QuizSession.Started):
        return None
    joined: dict[str, list[Any]] = {}
    answers: list[tuple[datetime, tuple[str, int, str, int, float | None, int, int]]] = []
    closed: dict[int, str] = {}
    phase, ended_at = LOBBY, None
    for event in history[1:]:
        match event:
            case QuizSession.PlayerJoined():
                joined[event.player_id] = [event.timestamp, event.nickname, False]
            case QuizSession.PlayerKicked():
                joined[event.player_id][2] = True
            case QuizSession.TaskStarted():
                phase = QUESTION
            case QuizSession.AnswerSubmitted():
                answers.append((event.timestamp, (
                    event.player_id, event.index, msgspec.json.encode(event.answer).decode(),
                    event.elapsed_ms, event.fraction, event.points, event.bonus)))
            case QuizSession.TaskClosed():
                phase = RESULTS
                closed[event.index] = event.reason
            case QuizSession.Ended():
                phase, ended_at = ENDED, event.timestamp
    row = SessionRow(session_id, started.game_id, started.host, list(started.admins),
                     started.title, phase, len(started.tasks), list(started.tasks), ended_at)
    players = [(pid, nickname, kicked) for pid, (_, nickname, kicked)
               in sorted(joined.items(), key=lambda item: (item[1][0], item[0]))]
    in_order = [answer for _, answer in sorted(answers, key=lambda a: (a[1][1], a[0]))]
    return PastSession(history[-1].originator_version, row, players, in_order, closed)
