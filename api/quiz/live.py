"""A session's live socket, `/api/quiz/sessions/{id}/live`: JSON text frames tagged by `"type"`.

Client → server, handled in order (each answered before the next is read):
- first, `hello {role: "player", player_id, token}` (as `POST /api/quiz/join` gave them; also to
  rejoin after a reload or a restart) or `hello {role: "host", token?}` (an access token, unless
  the socket's own `Authorization` header names the account);
- players: `answer {index, answer}` (an option id, a list of ids, a text or a number);
- hosts: `host {action: next | skip | pause | resume | end}`, `kick {player_id}`;
- `ping`.

Server → client: `state` (after the hello: everything to draw the screen), then `task {index,
task, started_ms, deadline_ms, server_ms}`, `paused`, `resumed`, `results {you, solution,
distribution, leaderboard, …}`, `ended {you, podium, leaderboard}`; hosts also `joined`,
`answered {count, of}` and `kicked`; `ack {index, elapsed_ms}` for an answer; `error {error,
detail, index?}`; `resync` (fell behind: closed with 4408); `pong`.

Close codes: 4404 unknown session, 4403 a wrong token, a kicked player or not the host, 4401 no
account for a host, 4400 no hello, 1009 a frame over 16 KB.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.params import FromPath

from api.auth import origin_allowed, payload_of
from api.errors import ApiError, close_socket, decode_refusal, kind_of, refusal
from api.live import receive_frames
from api.quiz.parts import QuizParts, provide_quiz
from commands.quiz.quizzes import token_hash
from commands.quiz.wire import Answer, HostAction, Kick, Look, Rejoin, SubmitAnswer
from commands.text import Line
from domain.quiz.errors import QuizError
from infra.live.sender import Sender
from infra.live.socket import LIVE_SOCKETS, frame_sink
from infra.quiz.hub import Seat, now_ms, seq_of
from infra.tasks import until_first_ends

MAX_FRAME = 16 * 1024
HELLO_TIMEOUT_S = 10.0
CLOSES = {"session_not_found", "bad_player_token", "player_kicked", "not_allowed"}
_encode = msgspec.json.Encoder().encode


class Hello(msgspec.Struct, tag="hello", forbid_unknown_fields=True, kw_only=True):
    role: Literal["player", "host"]
    player_id: Annotated[Line, msgspec.Meta(max_length=64)] = ""
    token: Annotated[Line, msgspec.Meta(max_length=4096)] = ""


class AnswerIn(msgspec.Struct, tag="answer", forbid_unknown_fields=True):
    index: Annotated[int, msgspec.Meta(ge=0, le=1000)]
    answer: Answer


class HostIn(msgspec.Struct, tag="host", forbid_unknown_fields=True):
    action: Literal["next", "skip", "pause", "resume", "end"]
    index: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None


class KickIn(msgspec.Struct, tag="kick", forbid_unknown_fields=True):
    player_id: Annotated[Line, msgspec.Meta(max_length=64)]


class Ping(msgspec.Struct, tag="ping", forbid_unknown_fields=True):
    pass


_hello = msgspec.json.Decoder(Hello, strict=True)
_inbound = msgspec.json.Decoder(AnswerIn | HostIn | KickIn | Ping, strict=True)


@websocket("/api/quiz/sessions/{session_id:str}/live")
async def quiz_live(socket: WebSocket[Any, Any, Any], session_id: FromPath[str]) -> None:
    if not origin_allowed(socket):
        await close_socket(socket, "origin_not_allowed")
        return
    quiz = provide_quiz(socket.app.state)
    await socket.accept()
    try:
        session = UUID(session_id)
    except ValueError:
        await close_socket(socket, "session_not_found")
        return
    await _Connection(socket, quiz, session).run()


def error_frame(code: str, detail: str, **extra: Any) -> bytes:
    """A refusal of a client's message (counted for `/metrics`)."""
    LIVE_SOCKETS.refusal("quiz", code)
    return _encode({"type": "error", "error": code, "detail": detail, **extra})


class _Connection:
    def __init__(self, socket: WebSocket[Any, Any, Any], quiz: QuizParts, session: UUID) -> None:
        self.socket = socket
        self.quiz = quiz
        self.session = session
        self.out = Sender(socket, frame_sink(socket.scope), "text")
        self.user = ""
        self.player_id = ""
        self.seat: Seat | None = None
        self._ready = asyncio.Event()

    async def run(self) -> None:
        command = await self._hello()
        if command is None:
            return
        seat = self.seat = await self.quiz.hub.sit(self.session, self.player_id or None)
        seat.listener.attach(None)  # frames wait until the state is out
        try:
            try:
                outcome = await self.quiz.runtime.run(self.session, command)
            except QuizError as error:
                code = error.code if error.code in CLOSES else "not_allowed"
                await close_socket(self.socket, code)
                return
            state = outcome.reply
            seat.floor = state["seq"]
            seat.on_kicked = self._kicked
            await self.out.send(_encode({**state, "server_ms": now_ms()}))
            self._ready.set()
            if self.out.sink is not None:
                seat.listener.attach(self.out.sink)
            await until_first_ends(self._forward(seat), self._serve())
        finally:
            await self.quiz.hub.leave(self.session, seat)

    async def _hello(self) -> Any:
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                event = await self.socket.receive()
            if event["type"] == "websocket.disconnect":
                return None
            hello = _hello.decode(payload_of(event))
        except (TimeoutError, msgspec.DecodeError):
            with contextlib.suppress(Exception):
                await self.out.send(error_frame("hello_first", "send hello first"))
                await close_socket(self.socket, "hello_first")
            return None
        if hello.role == "player":
            if not hello.player_id or not hello.token:
                await close_socket(self.socket, "bad_player_token")
                return None
            self.player_id = hello.player_id
            return Rejoin(hello.player_id, token_hash(hello.token))
        gate = self.socket.app.state.gate
        try:
            actor = (
                gate.actor_from_token(hello.token) if hello.token
                else gate.identify(self.socket.headers)
            )
        except ApiError as error:
            await close_socket(self.socket, error.code)
            return None
        if actor is None:
            await close_socket(self.socket, "unauthenticated")
            return None
        self.user = actor.user
        return Look(actor.user)

    def _kicked(self) -> None:
        async def close() -> None:
            await asyncio.sleep(0.05)  # the kicked frame first
            with contextlib.suppress(Exception):
                await close_socket(self.socket, "player_kicked")

        asyncio.get_running_loop().create_task(close())

    async def _forward(self, seat: Seat) -> None:
        """Frames that queued (during the hello, or while the socket's buffer was full)."""
        while (frames := await self.out.next_frames(seat.listener, self._ready)) is not None:
            await self.out.send_frames([f for f in frames if seq_of(f[0]) > seat.floor])

    async def _serve(self) -> None:
        await receive_frames(self.socket, MAX_FRAME, self._handle)

    async def _handle(self, raw: str | bytes) -> bool:
        try:
            message = _inbound.decode(raw)
        except msgspec.DecodeError as error:
            told = decode_refusal(error)
            await self.out.send(error_frame(told.code, told.detail, **told.extra))
            return True
        match message:
            case Ping():
                await self.out.send(b'{"type":"pong"}')
            case AnswerIn() if self.player_id:
                await self._command(
                    SubmitAnswer(self.player_id, message.index, message.answer,
                                 self.seat.delivered.get(message.index) if self.seat else None),
                    index=message.index,
                )
            case HostIn() if self.user:
                await self._command(HostAction(self.user, message.action, message.index))
            case KickIn() if self.user:
                await self._command(Kick(self.user, message.player_id))
            case _:
                await self.out.send(error_frame("not_allowed", "not for your role"))
        return True

    async def _command(self, command: Any, **about: Any) -> None:
        try:
            outcome = await self.quiz.runtime.run(self.session, command)
        except Exception as error:  # noqa: BLE001 -- each refusal is told, the socket goes on
            if kind_of(error) is None and not isinstance(error, ApiError):
                told = refusal(error)  # logs it
                await self.out.send(error_frame(told.code, told.detail, **about))
                return
            told = refusal(error)
            await self.out.send(error_frame(told.code, told.detail, **about, **told.extra))
            return
        if isinstance(command, SubmitAnswer):
            await self.out.send(_encode({"type": "ack", **outcome.reply}))
