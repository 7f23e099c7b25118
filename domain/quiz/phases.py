"""The session's phases and the small values its decisions return."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from domain.quiz.errors import InvalidNickname
from domain.quiz.scoring import Judged

LOBBY, QUESTION, RESULTS, ENDED = "lobby", "question", "results", "ended"
MAX_PLAYERS = 5000
MAX_NICKNAME = 24


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def check_nickname(nickname: str) -> str:
    nickname = " ".join(nickname.split())
    if not 1 <= len(nickname) <= MAX_NICKNAME:
        raise InvalidNickname(f"a nickname has 1 to {MAX_NICKNAME} characters")
    return nickname


class Answered(NamedTuple):
    judged: Judged
    elapsed_ms: int
    closed: bool
    """The answer was the last one missing: the task closed with it."""


class Standing(NamedTuple):
    player_id: str
    nickname: str
    score: int
    time_ms: int
    rank: int


def ranked(players: dict[str, dict[str, Any]]) -> list[Standing]:
    """Players not kicked, best first: by score, then by total answer time."""
    active = [pid for pid, player in players.items() if not player["kicked"]]
    ordered = sorted(active, key=lambda pid: (-players[pid]["score"], players[pid]["time_ms"]))
    return [
        Standing(pid, players[pid]["nickname"], players[pid]["score"], players[pid]["time_ms"],
                 rank)
        for rank, pid in enumerate(ordered, start=1)
    ]
