"""The live frames of a session, built by its writer from the aggregate right after deciding (so
every frame is a copy, never a reference into the aggregate's state). Each carries `seq`, the
session's version once the command's events are saved; a socket that was given the state at
version V ignores frames up to V.

Frames for everyone (`task`, `paused`, `resumed`), for the host only (`joined`, `answered`,
`kicked`), and two with a part for each player (`results`, `ended`: the hub sends each player
the shared part and its own entry of `players`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from domain.quiz.phases import ENDED, QUESTION, RESULTS
from domain.quiz.session import QuizSession
from domain.quiz.tasks import public_view, solution

TOP = 10
PODIUM = 3


def task_frame(session: QuizSession) -> dict[str, Any]:
    return {
        "type": "task",
        "seq": session.version,
        "index": session.current,
        "task": public_view(session.task(), session.current, len(session.tasks)),
        "started_ms": session.started_ms,
        "deadline_ms": session.deadline_ms,
    }


def leaderboard(session: QuizSession, top: int = TOP) -> list[dict[str, Any]]:
    return [
        {"rank": s.rank, "player_id": s.player_id, "nickname": s.nickname, "score": s.score}
        for s in session.standings()[:top]
    ]


def distribution(session: QuizSession) -> dict[str, Any]:
    task = session.task()
    answers = session.answers.values()
    if task["options"] and task["kind"] != "order":
        counts: Counter[int] = Counter()
        for given in answers:
            picked = given[0] if isinstance(given[0], list) else [given[0]]
            counts.update(picked)
        return {"options": [counts.get(i, 0) for i in range(len(task["options"]))]}
    right = sum(1 for given in answers if given[2] == 1.0)
    return {"right": right, "wrong": len(session.answers) - right}


def results_frame(session: QuizSession) -> dict[str, Any]:
    ranks = {s.player_id: s.rank for s in session.standings()}
    players: dict[str, list[Any]] = {}
    for pid, rank in ranks.items():
        player = session.players[pid]
        given = session.answers.get(pid)
        players[pid] = [
            given is not None,
            None if given is None else given[2],
            0 if given is None or session.closed_reason == "skipped" else given[3],
            0 if given is None or session.closed_reason == "skipped" else given[4],
            player["score"],
            rank,
            player["streak"],
        ]
    return {
        "type": "results",
        "seq": session.version,
        "index": session.current,
        "reason": session.closed_reason,
        "solution": solution(session.task()),
        "distribution": distribution(session),
        "answered": len(session.answers),
        "leaderboard": leaderboard(session),
        "players": players,
    }


def ended_frame(session: QuizSession, reason: str) -> dict[str, Any]:
    standings = session.standings()
    players = {
        s.player_id: [
            s.score,
            s.rank,
            session.players[s.player_id]["right"],
            session.players[s.player_id]["answered"],
        ]
        for s in standings
    }
    return {
        "type": "ended",
        "seq": session.version,
        "reason": reason,
        "tasks": len(session.tasks),
        "podium": leaderboard(session, PODIUM),
        "leaderboard": leaderboard(session),
        "players": players,
    }


def you_in_results(entry: list[Any] | None) -> dict[str, Any]:
    if entry is None:
        return {"answered": False}
    answered, fraction, points, bonus, total, rank, streak = entry
    return {
        "answered": answered,
        "right": None if fraction is None else fraction == 1.0,
        "fraction": fraction,
        "points": points,
        "bonus": bonus,
        "total": total,
        "rank": rank,
        "streak": streak,
    }


def you_in_ended(entry: list[Any] | None) -> dict[str, Any]:
    if entry is None:
        return {}
    score, rank, right, answered = entry
    return {"score": score, "rank": rank, "right": right, "answered": answered}


def player_state(session: QuizSession, player_id: str) -> dict[str, Any]:
    """What a player who (re)joins is told: everything to draw the screen as it is now."""
    player = session.players[player_id]
    state: dict[str, Any] = {
        "type": "state",
        "seq": session.version,
        "session_id": str(session.id),
        "title": session.title,
        "phase": session.phase,
        "paused": session.paused,
        "tasks": len(session.tasks),
        "players": len(session.active()),
        "you": {
            "player_id": player_id,
            "nickname": player["nickname"],
            "score": player["score"],
            "streak": player["streak"],
        },
    }
    _add_phase(session, state)
    if session.phase == QUESTION:
        state["answered"] = player_id in session.answers
    elif session.phase == RESULTS:
        state["you"]["result"] = you_in_results(state["results"]["players"].get(player_id))
        del state["results"]["players"]
    elif session.phase == ENDED:
        state["you"]["final"] = you_in_ended(state["ended"]["players"].get(player_id))
        del state["ended"]["players"]
    return state


def host_state(session: QuizSession) -> dict[str, Any]:
    state: dict[str, Any] = {
        "type": "state",
        "seq": session.version,
        "session_id": str(session.id),
        "title": session.title,
        "code": session.invite_code,
        "late_join": session.late_join,
        "phase": session.phase,
        "paused": session.paused,
        "remaining_ms": session.paused_remaining_ms,
        "tasks": len(session.tasks),
        "players": [
            {"id": pid, "nickname": p["nickname"], "score": p["score"]}
            for pid, p in session.players.items()
            if not p["kicked"]
        ],
    }
    _add_phase(session, state)
    if session.phase == QUESTION:
        state["answered"] = len(session.answers)
    for key in ("results", "ended"):
        if key in state:
            del state[key]["players"]
    return state


def _add_phase(session: QuizSession, state: dict[str, Any]) -> None:
    if session.phase == QUESTION:
        state["task"] = task_frame(session)
    elif session.phase == RESULTS:
        state["results"] = results_frame(session)
    elif session.phase == ENDED:
        state["ended"] = ended_frame(session, "finished")
