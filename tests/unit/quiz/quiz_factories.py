"""Plain factories for the quiz tests."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from domain.quiz.session import QuizSession
from domain.quiz.tasks import validate_task
from tests.factories import T0


def a_single(task_id: str = "t1", *, right: int = 0, limit: int = 20, points: int = 1000) -> dict:
    options = [{"text": f"option {i}", "correct": i == right} for i in range(4)]
    raw = {"kind": "single", "text": "Which?", "options": options, "time_limit_s": limit,
           "points": points}
    return validate_task(raw, task_id)


def a_task(kind: str, task_id: str = "t", **fields: Any) -> dict:
    return validate_task({"kind": kind, "text": "Q?", **fields}, task_id)


def a_session(tasks: list[dict] | None = None, *, late_join: bool = False) -> QuizSession:
    return QuizSession.start(
        session_id=uuid4(),
        game_id=uuid4(),
        host="host",
        admins=["helper"],
        title="Capitals",
        tasks=[a_single("t1"), a_single("t2", right=1), a_single("t3", right=2)]
        if tasks is None
        else tasks,
        scoring={},
        late_join=late_join,
        invite_code="ABCDEF",
        now=T0,
    )


def with_players(session: QuizSession, *names: str) -> QuizSession:
    for name in names:
        session.join(player_id=name, nickname=name.title(), token_hash=f"hash-{name}", now=T0)
    return session
