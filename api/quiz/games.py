"""Games and their tasks over HTTP: owners and admins edit, anyone signed in lists and copies
public games. Changes answer with the game as saved (the read model follows within a moment)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from api.auth import AS_PLAYER
from api.errors import ApiError
from api.quiz.parts import QuizParts
from commands.actor import Actor
from commands.quiz.quizzes import new_task_id
from commands.quiz.wire import ChangeGame, CreateGame, MoveTask, SetAdmins, TaskIn
from domain.quiz.game import Game
from infra.quiz.catalog import GameOut, GameSummary


def game_out(game: Game) -> GameOut:
    return GameOut(
        game.id, game.owner, list(game.admins), game.title, game.description, game.cover,
        game.public, dict(game.scoring), [dict(task) for task in game.tasks], game.copied_from,
        game.modified_on,
    )


class GamesController(Controller):
    path = "/api/quiz/games"
    tags = ("quiz",)
    dependencies = AS_PLAYER

    @post("/", status_code=201)
    async def create_game(
        self, data: JSONBody[CreateGame], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
    ) -> GameOut:
        game = await asyncio.to_thread(quiz.quizzes.create_game, data, owner=player.user)
        return game_out(game)

    @get("/")
    async def list_games(
        self, player: NamedDependency[Actor], quiz: NamedDependency[QuizParts],
        mine: Annotated[bool, Parameter(description="mine (owned or administered), else public")]
        = False,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> list[GameSummary]:
        return await quiz.games.list_games(user=player.user, mine=mine, limit=limit)

    @get("/{game_id:uuid}")
    async def get_game(
        self, game_id: FromPath[UUID], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
    ) -> GameOut:
        game = await quiz.games.find_game(game_id)
        if game is None or not (
            game.public or player.user == game.owner or player.user in game.admins
        ):
            raise ApiError("not_found", "no such game")
        return game

    @patch("/{game_id:uuid}")
    async def change_game(
        self, game_id: FromPath[UUID], data: JSONBody[ChangeGame],
        player: NamedDependency[Actor], quiz: NamedDependency[QuizParts],
    ) -> GameOut:
        changes = data.changes()
        return await _edit(quiz, game_id, lambda g, now: g.change_details(
            user=player.user, changes=changes, now=now))

    @put("/{game_id:uuid}/admins")
    async def set_admins(
        self, game_id: FromPath[UUID], data: JSONBody[SetAdmins],
        player: NamedDependency[Actor], quiz: NamedDependency[QuizParts],
    ) -> GameOut:
        return await _edit(quiz, game_id, lambda g, now: g.set_admins(
            user=player.user, admins=data.admins, now=now))

    @delete("/{game_id:uuid}", status_code=204)
    async def delete_game(
        self, game_id: FromPath[UUID], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
    ) -> None:
        await _edit(quiz, game_id, lambda g, now: g.delete(user=player.user, now=now))

    @post("/{game_id:uuid}/copy", status_code=201)
    async def copy_game(
        self, game_id: FromPath[UUID], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
    ) -> GameOut:
        game = await asyncio.to_thread(quiz.quizzes.copy_game, game_id, user=player.user)
        return game_out(game)

    @post("/{game_id:uuid}/tasks", status_code=201)
    async def add_task(
        self, game_id: FromPath[UUID], data: JSONBody[TaskIn], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
        # gt=-1, not ge=0: Litestar leaves a zero minimum out of the schema
        position: Annotated[int | None, Parameter(gt=-1, le=1000)] = None,
    ) -> GameOut:
        task_id = new_task_id()
        raw = data.raw()
        return await _edit(quiz, game_id, lambda g, now: g.add_task(
            user=player.user, task_id=task_id, raw=raw, position=position, now=now))

    @put("/{game_id:uuid}/tasks/{task_id:str}")
    async def edit_task(
        self, game_id: FromPath[UUID], task_id: FromPath[str], data: JSONBody[TaskIn],
        player: NamedDependency[Actor], quiz: NamedDependency[QuizParts],
    ) -> GameOut:
        raw = data.raw()
        return await _edit(quiz, game_id, lambda g, now: g.edit_task(
            user=player.user, task_id=task_id, raw=raw, now=now))

    @post("/{game_id:uuid}/tasks/{task_id:str}/duplicate", status_code=201)
    async def duplicate_task(
        self, game_id: FromPath[UUID], task_id: FromPath[str], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
    ) -> GameOut:
        new_id = new_task_id()
        return await _edit(quiz, game_id, lambda g, now: g.duplicate_task(
            user=player.user, task_id=task_id, new_id=new_id, now=now))

    @post("/{game_id:uuid}/tasks/{task_id:str}/move", status_code=200)
    async def move_task(
        self, game_id: FromPath[UUID], task_id: FromPath[str], data: JSONBody[MoveTask],
        player: NamedDependency[Actor], quiz: NamedDependency[QuizParts],
    ) -> GameOut:
        return await _edit(quiz, game_id, lambda g, now: g.move_task(
            user=player.user, task_id=task_id, position=data.position, now=now))

    @delete("/{game_id:uuid}/tasks/{task_id:str}", status_code=200)
    async def remove_task(
        self, game_id: FromPath[UUID], task_id: FromPath[str], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
    ) -> GameOut:
        return await _edit(quiz, game_id, lambda g, now: g.remove_task(
            user=player.user, task_id=task_id, now=now))


async def _edit(quiz: QuizParts, game_id: UUID, change: Any) -> GameOut:
    game, _ = await asyncio.to_thread(quiz.quizzes.edit_game, game_id, change)
    return game_out(game)
