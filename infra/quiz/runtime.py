"""Running sessions on this node: commands through the sessions' writer, their frames to the hub
once saved, the timers that close tasks (re-armed at start from the read model: a task that was
running when a node stopped still closes)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any
from uuid import UUID

from commands.quiz.decide import Outcome
from commands.quiz.quizzes import Quizzes, token_hash
from commands.quiz.wire import CloseTask, Join, SessionCommand
from domain.quiz.errors import QuizError
from infra.quiz.hub import QuizHub
from infra.quiz.sessions_view import SessionsView

log = logging.getLogger(__name__)
RETRY_CLOSE_S = 1.0


class QuizRuntime:
    def __init__(self, quizzes: Quizzes, hub: QuizHub, view: SessionsView) -> None:
        self.quizzes = quizzes
        self.hub = hub
        self.view = view
        hub.closing_with(self.close_task)

    async def start(self) -> None:
        for running in await self.view.running_tasks():
            self.hub.arm(running.session_id, running.task_index, running.deadline_ms)

    async def run(self, session_id: UUID, command: SessionCommand) -> Outcome:
        """Decide and save; the frames go out before this returns."""
        outcome = await self.quizzes.execute(session_id, command)
        if outcome.frames:
            self.hub.publish(session_id, outcome.frames)
        return outcome

    async def close_task(self, session_id: UUID, index: int) -> Any:
        try:
            return await self.run(session_id, CloseTask(index))
        except QuizError:
            return None
        except Exception as error:  # noqa: BLE001 -- the store away, a node stopping: again
            log.warning("closing task %d of %s failed (%r): again in %s s", index, session_id,
                        error, RETRY_CLOSE_S)
            loop = asyncio.get_running_loop()
            loop.call_later(
                RETRY_CLOSE_S, lambda: asyncio.ensure_future(self.close_task(session_id, index))
            )
            return None

    async def join(self, code: str, nickname: str) -> tuple[UUID, str, str, dict[str, Any]]:
        """A new player: the session, their id and token (shown this once), the state."""
        session_id = await asyncio.to_thread(self.quizzes.session_of_code, code)
        player_id = secrets.token_hex(8)
        token = secrets.token_urlsafe(24)
        outcome = await self.run(session_id, Join(player_id, nickname, token_hash(token)))
        return session_id, player_id, token, outcome.reply
