"""A session's report, from the sessions read model: each player's answers, times and points,
and per-task statistics; as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from infra.quiz.sessions_view import SessionRow


def build_report(
    session: SessionRow, players: list[Any], answers: list[Any], closed: dict[int, str]
) -> dict[str, Any]:
    credited = {index for index, reason in closed.items() if reason != "skipped"}
    by_player: dict[str, list[dict[str, Any]]] = {p[0]: [] for p in players}
    per_task: dict[int, list[Any]] = {}
    for player_id, index, answer, elapsed_ms, fraction, points, bonus in answers:
        earned = index in credited
        by_player.setdefault(player_id, []).append({
            "task": index,
            "answer": msgspec.json.decode(answer),
            "elapsed_ms": elapsed_ms,
            "right": None if fraction is None else fraction == 1.0,
            "fraction": fraction,
            "points": points if earned else 0,
            "bonus": bonus if earned else 0,
        })
        per_task.setdefault(index, []).append((elapsed_ms, fraction))
    rows = []
    for player_id, nickname, kicked in players:
        given = by_player.get(player_id, [])
        rows.append({
            "player_id": player_id,
            "nickname": nickname,
            "kicked": kicked,
            "score": sum(a["points"] + a["bonus"] for a in given),
            "time_ms": sum(a["elapsed_ms"] for a in given if a["task"] in credited),
            "right": sum(1 for a in given if a["right"] and a["task"] in credited),
            "answers": given,
        })
    ranked = sorted((r for r in rows if not r["kicked"]), key=lambda r: (-r["score"], r["time_ms"]))
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    tasks = []
    for index, task in enumerate(session.tasks):
        timed = per_task.get(index, [])
        scored = [f for _, f in timed if f is not None]
        tasks.append({
            "index": index,
            "kind": task["kind"],
            "text": task["text"],
            "closed": closed.get(index),
            "answers": len(timed),
            "right": sum(1 for f in scored if f == 1.0),
            "average_ms": round(sum(e for e, _ in timed) / len(timed)) if timed else None,
        })
    return {
        "session_id": str(session.session_id),
        "game_id": str(session.game_id),
        "title": session.title,
        "ended": session.phase == "ended",
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
        "tasks": tasks,
        "players": sorted(rows, key=lambda r: r.get("rank", 1 << 30)),
    }


CSV_COLUMNS = (
    "rank", "nickname", "player_id", "score", "task", "task_text", "answer", "elapsed_ms",
    "right", "points", "bonus",
)


def report_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    texts = {task["index"]: task["text"] for task in report["tasks"]}
    for player in report["players"]:
        for answer in player["answers"] or [None]:
            writer.writerow([
                player.get("rank", ""), _cell(player["nickname"]), player["player_id"],
                player["score"],
                "" if answer is None else answer["task"],
                "" if answer is None else _cell(texts.get(answer["task"], "")),
                "" if answer is None else _cell(msgspec.json.encode(answer["answer"]).decode()),
                "" if answer is None else answer["elapsed_ms"],
                "" if answer is None or answer["right"] is None else answer["right"],
                "" if answer is None else answer["points"],
                "" if answer is None else answer["bonus"],
            ])
    return out.getvalue()


def _cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
