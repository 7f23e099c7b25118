"""Sessions over HTTP: the host starts one and runs it (next, skip, pause, resume, end, kick),
players join by code with a nickname; the report for the game's owner and admins."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from api.auth import AS_PLAYER
from api.errors import ApiError
from api.quiz.parts import QuizParts
from api.quiz.report import build_report, report_csv
from api.versions import parse_seq
from commands.actor import Actor
from commands.quiz.wire import HostAction, JoinSession, Kick, KickPlayer, StartSession
from domain.quiz import errors as quiz_errors
from infra.quiz.session_history import session_at
from infra.quiz.sessions_view import SessionRow


class SessionStarted(msgspec.Struct):
    session_id: UUID
    code: str
    game_id: UUID


class Joined(msgspec.Struct):
    session_id: UUID
    player_id: str
    token: str
    """Shown this once: with the session id, it rejoins (keep it)."""
    state: dict[str, Any]


class JoinController(Controller):
    path = "/api/quiz/join"
    tags = ("quiz",)

    @post(
        "/",
        status_code=201,
        refuses=(quiz_errors.WrongCode, quiz_errors.GameStarted, quiz_errors.NicknameTaken,
                 quiz_errors.InvalidNickname, quiz_errors.SessionEnded),
    )
    async def join_session(
        self, data: JSONBody[JoinSession], quiz: NamedDependency[QuizParts]
    ) -> Joined:
        """No account needed: the code and a nickname unique within the session."""
        session_id, player_id, token, state = await quiz.runtime.join(data.code, data.nickname)
        return Joined(session_id, player_id, token, state)


class SessionsController(Controller):
    path = "/api/quiz/sessions"
    tags = ("quiz",)
    dependencies = AS_PLAYER

    @post(
        "/",
        status_code=201,
        refuses=(quiz_errors.GameNotFound, quiz_errors.NotAllowed, quiz_errors.NoTasks),
    )
    async def start_session(
        self, data: JSONBody[StartSession], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
    ) -> SessionStarted:
        session = await asyncio.to_thread(
            quiz.quizzes.start_session, data.game_id, user=player.user, late_join=data.late_join
        )
        return SessionStarted(session.id, session.invite_code, session.game_id)

    @post("/{session_id:uuid}/{action:str}", status_code=200)
    async def host_action(
        self, session_id: FromPath[UUID], action: FromPath[str],
        player: NamedDependency[Actor], quiz: NamedDependency[QuizParts],
        index: Annotated[int | None, Parameter(ge=0, le=1000)] = None,
    ) -> dict[str, Any]:
        """`next` (start the next task, or end after the last), `skip`, `pause`, `resume`,
        `end`. With `index` (the task meant: for `next`, the task count to end), `next` and
        `skip` sent again do nothing more."""
        if action not in ("next", "skip", "pause", "resume", "end"):
            raise ApiError("not_found", "actions: next, skip, pause, resume, end, kick")
        outcome = await quiz.runtime.run(session_id, HostAction(player.user, action, index))
        return {"frames": [frame["type"] for frame in outcome.frames]}

    @post("/{session_id:uuid}/kick", status_code=200)
    async def kick_player(
        self, session_id: FromPath[UUID], data: JSONBody[KickPlayer],
        player: NamedDependency[Actor], quiz: NamedDependency[QuizParts],
    ) -> dict[str, Any]:
        await quiz.runtime.run(session_id, Kick(player.user, data.player_id))
        return {"kicked": data.player_id}

    @get(
        "/{session_id:uuid}/report",
        refuses=("session_not_found", "not_allowed", "invalid_version", "version_not_found"),
    )
    async def get_report(
        self, session_id: FromPath[UUID], player: NamedDependency[Actor],
        quiz: NamedDependency[QuizParts],
        format: Annotated[Literal["json", "csv"], Parameter(description="json or csv")] = "json",
        at_seq: Annotated[str | None, Parameter(
            description="a past version of the session (1: as started): the "
            "report as it was then; 422 if not a whole number, 404 past the last version",
        )] = None,
    ) -> Response[Any]:
        """For the game's owner and admins (and whoever hosted it); with `at_seq`, as it was
        at that version of the session (folded from its events in the store)."""
        seq = parse_seq(at_seq)
        if seq is None:
            session = await quiz.sessions.find_session(session_id)
            if session is None:
                raise ApiError("session_not_found", "no such session")
            _may_see(player, session)
            report = build_report(session, *await quiz.sessions.report_rows(session_id))
        else:
            past = await asyncio.to_thread(session_at, quiz.quizzes.events, session_id,
                                           max(seq, 1))
            if past is None:
                raise ApiError("session_not_found", "no such session")
            _may_see(player, past.session)
            if seq < 1:
                raise ApiError("version_not_found", "a session's versions start at 1 (started)")
            if seq > past.version:
                raise ApiError("version_not_found",
                               f"the session has versions 1 to {past.version} so far",
                               last=past.version)
            report = build_report(past.session, past.players, past.answers, past.closed)
            report["at_seq"] = seq
        if format == "csv":
            return Response(
                report_csv(report),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="quiz-{session_id}.csv"'},
            )
        return Response(report, media_type=MediaType.JSON)


def _may_see(player: Actor, session: SessionRow) -> None:
    if player.user != session.host and player.user not in session.admins:
        raise ApiError("not_allowed", "only the game's owner and its admins see reports")
