"""What the session writer does with each command: the aggregate decides, and the frames to
publish once the events are saved are built on the spot."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from commands.quiz.frames import (
    ended_frame,
    host_state,
    player_state,
    results_frame,
    task_frame,
)
from commands.quiz.wire import (
    CloseTask,
    HostAction,
    Join,
    Kick,
    Look,
    Rejoin,
    SessionCommand,
    SubmitAnswer,
)
from domain.quiz.errors import NotAllowed
from domain.quiz.phases import ENDED, QUESTION, RESULTS
from domain.quiz.session import QuizSession


class Outcome(NamedTuple):
    reply: Any
    frames: list[dict[str, Any]]
    """To publish after commit, in order."""


def _after_close(session: QuizSession, frames: list[dict[str, Any]]) -> None:
    if session.phase == RESULTS:
        frames.append(results_frame(session))


def decide(session: QuizSession, command: SessionCommand, now: datetime) -> Outcome:
    match command:
        case SubmitAnswer():
            answered = session.answer(
                player_id=command.player_id,
                index=command.index,
                answer=command.answer,
                delivered_ms=command.delivered_ms,
                now=now,
            )
            frames: list[dict[str, Any]] = [
                {"type": "answered", "seq": session.version, "index": command.index,
                 "count": len(session.answers), "of": len(session.active())}
            ]
            if answered.closed:
                _after_close(session, frames)
            return Outcome({"index": command.index, "elapsed_ms": answered.elapsed_ms}, frames)
        case CloseTask(index=index):
            if session.close_task(index=index, now=now):
                return Outcome(True, [results_frame(session)])
            return Outcome(False, [])
        case Join():
            session.join(
                player_id=command.player_id,
                nickname=command.nickname,
                token_hash=command.token_hash,
                now=now,
            )
            joined = {
                "type": "joined",
                "seq": session.version,
                "player": {"id": command.player_id,
                           "nickname": session.players[command.player_id]["nickname"]},
                "players": len(session.active()),
            }
            return Outcome(player_state(session, command.player_id), [joined])
        case Rejoin():
            session.player(command.player_id, command.token_hash)
            return Outcome(player_state(session, command.player_id), [])
        case Look(user=user):
            if not session.is_host(user):
                raise NotAllowed("only the session's host may host it")
            return Outcome(host_state(session), [])
        case Kick():
            session.kick(user=command.user, player_id=command.player_id, now=now)
            frames = [{"type": "kicked", "seq": session.version, "player_id": command.player_id}]
            _after_close(session, frames)
            return Outcome(None, frames)
        case HostAction():
            return Outcome(None, _host_action(session, command, now))
    raise TypeError(f"not a session command: {command!r}")


def _host_action(session: QuizSession, command: HostAction, now: datetime) -> list[dict[str, Any]]:
    user = command.user
    version = session.version
    match command.action:
        case "next":
            phase = session.next(user=user, now=now, index=command.index)
            if session.version == version:
                return []  # sent again: it had moved on already
            if phase == QUESTION:
                return [task_frame(session)]
            return [ended_frame(session, "finished")]
        case "skip":
            session.skip(user=user, now=now, index=command.index)
            return [] if session.version == version else [results_frame(session)]
        case "pause":
            session.pause(user=user, now=now)
            return [{"type": "paused", "seq": session.version, "index": session.current,
                     "remaining_ms": session.paused_remaining_ms}]
        case "resume":
            session.resume(user=user, now=now)
            return [{"type": "resumed", "seq": session.version, "index": session.current,
                     "deadline_ms": session.deadline_ms}]
        case "end":
            session.end(user=user, now=now)
            assert session.phase == ENDED
            return [ended_frame(session, "host")]
    raise TypeError(f"not a host action: {command.action!r}")
