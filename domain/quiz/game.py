"""A game: its owner, admins, details and ordered tasks. Every change is an event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.quiz.errors import GameNotFound, InvalidGame, InvalidTask, NotAllowed, TaskNotFound
from domain.quiz.scoring import Scoring
from domain.quiz.tasks import MAX_TASKS, check_image, images_of, validate_task

MAX_TITLE = 120
MAX_DESCRIPTION = 2000
MAX_ADMINS = 20
DETAILS = ("title", "description", "cover", "public", "scoring")


def validate_details(changes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in changes.items():
        match name:
            case "title":
                if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_TITLE:
                    raise InvalidGame(f"title has 1 to {MAX_TITLE} characters")
                out[name] = value.strip()
            case "description":
                if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
                    raise InvalidGame(f"description has at most {MAX_DESCRIPTION} characters")
                out[name] = value.strip()
            case "cover":
                try:
                    out[name] = check_image(value, "cover")
                except InvalidTask as error:
                    raise InvalidGame(str(error)) from None
            case "public":
                if not isinstance(value, bool):
                    raise InvalidGame("public is true or false")
                out[name] = value
            case "scoring":
                out[name] = Scoring.of(value).to_dict()
            case _:
                raise InvalidGame(f"unknown game field {name!r}")
    return out


def validate_admins(admins: Sequence[Any], owner: str) -> list[str]:
    if len(admins) > MAX_ADMINS or not all(isinstance(a, str) and 1 <= len(a) <= 64 for a in admins):
        raise InvalidGame(f"admins: at most {MAX_ADMINS} account ids")
    return sorted({a for a in admins if a != owner})


class Game(Aggregate):
    class Created(Aggregate.Created):
        owner: str
        details: dict[str, Any]
        tasks: list[dict[str, Any]]
        copied_from: UUID | None

    def __init__(
        self,
        owner: str,
        details: dict[str, Any],
        tasks: list[dict[str, Any]],
        copied_from: UUID | None,
    ) -> None:
        self.owner = owner
        self.admins: list[str] = []
        self.title: str = details["title"]
        self.description: str = details.get("description", "")
        self.cover: str | None = details.get("cover")
        self.public: bool = details.get("public", False)
        self.scoring: dict[str, Any] = details.get("scoring") or Scoring().to_dict()
        self.tasks = [dict(task) for task in tasks]
        self.copied_from = copied_from
        self.deleted = False

    @classmethod
    def create(
        cls,
        *,
        game_id: UUID,
        owner: str,
        details: Mapping[str, Any],
        tasks: Sequence[Mapping[str, Any]] = (),
        copied_from: UUID | None = None,
        now: datetime,
    ) -> Game:
        checked = validate_details({"description": "", "public": False, **details})
        if "title" not in checked:
            raise InvalidGame("a game has a title")
        checked.setdefault("scoring", Scoring().to_dict())
        checked.setdefault("cover", None)
        if len(tasks) > MAX_TASKS:
            raise InvalidGame(f"a game has at most {MAX_TASKS} tasks")
        return cls._create(
            cls.Created,
            id=game_id,
            timestamp=now,
            owner=owner,
            details=checked,
            tasks=[dict(task) for task in tasks],
            copied_from=copied_from,
        )

    # -- queries ------------------------------------------------------------------------------

    def may_edit(self, user: str) -> bool:
        return user == self.owner or user in self.admins

    def may_read(self, user: str | None) -> bool:
        return self.public or (user is not None and self.may_edit(user))

    def images(self) -> set[str]:
        found = {self.cover} if self.cover else set()
        for task in self.tasks:
            found |= images_of(task)
        return found

    def task_index(self, task_id: str) -> int:
        for index, task in enumerate(self.tasks):
            if task["id"] == task_id:
                return index
        raise TaskNotFound(f"no task {task_id!r} in this game")

    def details(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "cover": self.cover,
            "public": self.public,
            "scoring": self.scoring,
        }

    # -- decisions ----------------------------------------------------------------------------

    def _editor(self, user: str) -> None:
        if self.deleted:
            raise GameNotFound("this game was deleted")
        if not self.may_edit(user):
            raise NotAllowed("only the game's owner and its admins may change it")

    def change_details(self, *, user: str, changes: Mapping[str, Any], now: datetime) -> None:
        self._editor(user)
        checked = validate_details(changes)
        if checked:
            self.trigger_event(self.DetailsChanged, timestamp=now, changes=checked)

    def set_admins(self, *, user: str, admins: Sequence[str], now: datetime) -> None:
        self._editor(user)
        if user != self.owner:
            raise NotAllowed("only the game's owner chooses its admins")
        self.trigger_event(
            self.AdminsChanged, timestamp=now, admins=validate_admins(admins, self.owner)
        )

    def add_task(
        self, *, user: str, task_id: str, raw: Mapping[str, Any], position: int | None,
        now: datetime,
    ) -> dict[str, Any]:
        self._editor(user)
        if len(self.tasks) >= MAX_TASKS:
            raise InvalidGame(f"a game has at most {MAX_TASKS} tasks")
        task = validate_task(raw, task_id)
        at = len(self.tasks) if position is None else max(0, min(position, len(self.tasks)))
        self.trigger_event(self.TaskAdded, timestamp=now, task=task, position=at)
        return task

    def edit_task(
        self, *, user: str, task_id: str, raw: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        self._editor(user)
        self.task_index(task_id)
        task = validate_task(raw, task_id)
        self.trigger_event(self.TaskEdited, timestamp=now, task=task)
        return task

    def duplicate_task(
        self, *, user: str, task_id: str, new_id: str, now: datetime
    ) -> dict[str, Any]:
        self._editor(user)
        index = self.task_index(task_id)
        if len(self.tasks) >= MAX_TASKS:
            raise InvalidGame(f"a game has at most {MAX_TASKS} tasks")
        task = {**self.tasks[index], "id": new_id}
        self.trigger_event(self.TaskAdded, timestamp=now, task=task, position=index + 1)
        return task

    def move_task(self, *, user: str, task_id: str, position: int, now: datetime) -> None:
        self._editor(user)
        self.task_index(task_id)
        if not 0 <= position < len(self.tasks):
            raise InvalidGame(f"position is from 0 to {len(self.tasks) - 1}")
        self.trigger_event(self.TaskMoved, timestamp=now, task_id=task_id, position=position)

    def remove_task(self, *, user: str, task_id: str, now: datetime) -> None:
        self._editor(user)
        self.task_index(task_id)
        self.trigger_event(self.TaskRemoved, timestamp=now, task_id=task_id)

    def delete(self, *, user: str, now: datetime) -> None:
        self._editor(user)
        if user != self.owner:
            raise NotAllowed("only the game's owner may delete it")
        self.trigger_event(self.Deleted, timestamp=now)

    # -- events -------------------------------------------------------------------------------

    class DetailsChanged(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, game: Game) -> None:
            for name, value in self.changes.items():
                setattr(game, name, value)

    class AdminsChanged(Aggregate.Event):
        admins: list[str]

        def apply(self, game: Game) -> None:
            game.admins = list(self.admins)

    class TaskAdded(Aggregate.Event):
        task: dict[str, Any]
        position: int

        def apply(self, game: Game) -> None:
            game.tasks.insert(self.position, dict(self.task))

    class TaskEdited(Aggregate.Event):
        task: dict[str, Any]

        def apply(self, game: Game) -> None:
            game.tasks[game.task_index(self.task["id"])] = dict(self.task)

    class TaskMoved(Aggregate.Event):
        task_id: str
        position: int

        def apply(self, game: Game) -> None:
            task = game.tasks.pop(game.task_index(self.task_id))
            game.tasks.insert(self.position, task)

    class TaskRemoved(Aggregate.Event):
        task_id: str

        def apply(self, game: Game) -> None:
            del game.tasks[game.task_index(self.task_id)]

    class Deleted(Aggregate.Event):
        def apply(self, game: Game) -> None:
            game.deleted = True
