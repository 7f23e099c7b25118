"""The sessions read model (state, participants, players, answers, closed tasks) and the
sessions' half of the image references, from `QuizSession` events. Pure: each event becomes
row operations, in order (`Op`), which the view writes."""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec

from domain.quiz.tasks import images_of
from projections.quiz.games import state_of
from projections.recorded import Recorded

SESSION = "domain.quiz.session:QuizSession."
EVENTS = (
    "Started", "PlayerJoined", "PlayerKicked", "TaskStarted", "AnswerSubmitted", "TaskClosed",
    "Paused", "Resumed", "Ended",
)


class Op(NamedTuple):
    kind: str
    """session, participant, image_ref, player, kick, phase, answer, closed, pause, resume,
    ended"""
    args: tuple[Any, ...]


def account(user: str) -> str:
    return f"account:{user}"


def player(token_hash: str) -> str:
    return f"player:{token_hash}"


def ops_of(event: Recorded) -> list[Op]:
    state = state_of(event)
    sid = event.originator_id
    at = state["timestamp"]
    match event.topic.removeprefix(SESSION):
        case "Started":
            tasks = state["tasks"]
            ops = [
                Op("session", (sid, state["game_id"], state["host"], state["admins"],
                               state["title"], state["invite_code"], len(tasks),
                               msgspec.json.encode(tasks).decode(), at)),
                *(Op("participant", (sid, account(u)))
                  for u in sorted({state["host"], *state["admins"]})),
            ]
            images: set[str] = set()
            for task in tasks:
                images |= images_of(task)
            ops += [Op("image_ref", (sha, sid)) for sha in sorted(images)]
            return ops
        case "PlayerJoined":
            return [
                Op("participant", (sid, player(state["token_hash"]))),
                Op("player", (sid, state["player_id"], state["nickname"], at)),
            ]
        case "PlayerKicked":
            return [Op("kick", (sid, state["player_id"]))]
        case "TaskStarted":
            return [Op("phase", (sid, "question", state["index"], state["deadline_ms"]))]
        case "AnswerSubmitted":
            return [
                Op("answer", (sid, state["player_id"], state["index"],
                              msgspec.json.encode(state["answer"]).decode(), state["elapsed_ms"],
                              state["fraction"], state["points"], state["bonus"], at))
            ]
        case "TaskClosed":
            return [Op("closed", (sid, state["index"], state["reason"], at))]
        case "Paused":
            return [Op("pause", (sid, True))]
        case "Resumed":
            return [Op("resume", (sid, state["deadline_ms"]))]
        case "Ended":
            return [Op("ended", (sid, at))]
    return []


class SessionsProjection:
    name = "quiz_sessions"
    topics: tuple[str, ...] = tuple(SESSION + name for name in EVENTS)

    def __init__(self) -> None:
        self.ops: list[Op] = []

    def apply(self, event: Recorded) -> None:
        self.ops += ops_of(event)

    def collect(self) -> list[Op]:
        ops, self.ops = self.ops, []
        return ops
