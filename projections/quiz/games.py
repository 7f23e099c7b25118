"""The games read model and the games' half of the image references, folded from `Game` and
`QuizImage` events. Pure: rows in, rows out."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from commands.codec import MsgspecTranscoder
from domain.quiz.tasks import images_of
from projections.recorded import Recorded

GAME = "domain.quiz.game:Game."
IMAGE = "domain.quiz.image:QuizImage."
GAME_EVENTS = (
    "Created", "DetailsChanged", "AdminsChanged", "TaskAdded", "TaskEdited", "TaskMoved",
    "TaskRemoved", "Deleted",
)
IMAGE_EVENTS = ("Uploaded", "UploadedAgain", "Referenced", "Deleted")
_codec = MsgspecTranscoder()

GameRow = dict[str, Any]
"""game_id, owner, admins, title, description, cover, public, scoring, tasks, copied_from,
created_at, updated_at, deleted"""


def state_of(event: Recorded) -> dict[str, Any]:
    state: dict[str, Any] = _codec.decode(event.state)
    return state


def fold_game(row: GameRow | None, event: Recorded) -> GameRow | None:
    """A game's row after one of its events (None: the row is not known yet, or deleted)."""
    state = state_of(event)
    name = event.topic.removeprefix(GAME)
    at: datetime = state["timestamp"]
    if name == "Created":
        details = state["details"]
        return {
            "game_id": event.originator_id,
            "owner": state["owner"],
            "admins": [],
            "title": details["title"],
            "description": details.get("description", ""),
            "cover": details.get("cover"),
            "public": details.get("public", False),
            "scoring": details.get("scoring") or {},
            "tasks": list(state["tasks"]),
            "copied_from": state.get("copied_from"),
            "created_at": at,
            "updated_at": at,
            "deleted": False,
        }
    if row is None:
        return None
    row = dict(row, updated_at=at)
    tasks: list[dict[str, Any]] = list(row["tasks"])
    match name:
        case "DetailsChanged":
            row.update(state["changes"])
        case "AdminsChanged":
            row["admins"] = list(state["admins"])
        case "TaskAdded":
            tasks.insert(state["position"], state["task"])
        case "TaskEdited":
            tasks = [state["task"] if t["id"] == state["task"]["id"] else t for t in tasks]
        case "TaskMoved":
            moved = next(t for t in tasks if t["id"] == state["task_id"])
            tasks.remove(moved)
            tasks.insert(state["position"], moved)
        case "TaskRemoved":
            tasks = [t for t in tasks if t["id"] != state["task_id"]]
        case "Deleted":
            row["deleted"] = True
    row["tasks"] = tasks
    return row


def game_images(row: GameRow) -> set[str]:
    found = {row["cover"]} if row.get("cover") else set()
    for task in row["tasks"]:
        found |= images_of(task)
    return found


class GamesProjection:
    name = "quiz_games"
    topics: tuple[str, ...] = tuple(GAME + n for n in GAME_EVENTS) + tuple(
        IMAGE + n for n in IMAGE_EVENTS
    )

    def __init__(self) -> None:
        self.games: list[Recorded] = []
        self.images: list[tuple[str, UUID, dict[str, Any]]] = []

    def apply(self, event: Recorded) -> None:
        if event.topic.startswith(GAME):
            self.games.append(event)
            return
        self.images.append((event.topic.removeprefix(IMAGE), event.originator_id,
                            state_of(event)))

    def collect(self) -> tuple[list[Recorded], list[tuple[str, UUID, dict[str, Any]]]]:
        games, images = self.games, self.images
        self.games, self.images = [], []
        return games, images
