"""The one error map: every refusal, whether an error class of a context or a code a handler
names, has one HTTP status and one WebSocket close code here, and nowhere else. `api.errors`
turns them into answers: a status and the JSON body `{"error": code, "detail": …}`, an error
frame, or a close whose reason is the code. Close codes follow the statuses (4000 + status) where
a status fits.
"""
from __future__ import annotations

from dataclasses import dataclass

from commands.canvas.canvases import CanvasNotFound
from commands.desk.desks import DeskGone, DeskNotFound
from commands.writer import StoreUnavailable, WriterBusy, WriterStopped
from domain.account import (
    AccountBanned,
    AccountError,
    AccountNotFound,
    IdentityTaken,
    InvalidName,
    LastIdentity,
    UnknownRole,
)
from domain.billiards import errors as billiards
from domain.canvas import (
    CanvasClosed,
    CanvasError,
    CooldownActive,
    InvalidCanvas,
    OpReused,
    OpStale,
    PixelOutOfBounds,
    UnknownColour,
)
from domain.desk import (
    ClockSkew,
    DeskError,
    DeskExpired,
    NotCreator,
    SequenceGap,
    TooManyStickers,
    UnknownSticker,
)
from domain.feedback import FeedbackError, FeedbackIdReused, FeedbackNotFound, InvalidFeedback
from domain.quiz import errors as quiz
from domain.relay.errors import (
    ApiKeyRequired,
    BadRelayRequest,
    InvalidRoom,
    NotAllowed,
    RelayError,
    RoomClosed,
    RoomFull,
    RoomNotFound,
    TooManyAttempts,
    TooManyClients,
)
from infra.canvas.presence import RosterUnavailable
from infra.desk.reads import DeskBehind
from infra.identity.google import GoogleAuthError
from infra.identity.telegram import TelegramAuthError
from infra.identity.tokens import InvalidToken
from infra.ratelimit import RateLimited
from infra.spine.outage import StoreAway


@dataclass(frozen=True)
class Kind:
    status: int
    """The HTTP status."""
    close: int
    """The WebSocket close code, when the refusal ends a socket."""


def _kind(status: int, close: int | None = None) -> Kind:
    return Kind(status, 4000 + status if close is None else close)


BAD_REQUEST = _kind(400)
UNAUTHENTICATED = _kind(401)
FORBIDDEN = _kind(403)
NOT_FOUND = _kind(404)
CONFLICT = _kind(409)
GONE = _kind(410)
UNPROCESSABLE = _kind(422)
TOO_MANY = _kind(429)
UNAVAILABLE = _kind(503, close=1013)  # "try again later"

ERROR_CLASSES: dict[type[Exception], Kind] = {
    # canvas
    CanvasNotFound: NOT_FOUND,
    PixelOutOfBounds: UNPROCESSABLE,
    UnknownColour: UNPROCESSABLE,
    InvalidCanvas: UNPROCESSABLE,
    CanvasClosed: CONFLICT,
    OpReused: CONFLICT,
    OpStale: UNAVAILABLE,
    CooldownActive: TOO_MANY,
    CanvasError: BAD_REQUEST,
    RosterUnavailable: UNAVAILABLE,
    # desk
    DeskNotFound: NOT_FOUND,
    DeskGone: GONE,
    DeskExpired: GONE,
    NotCreator: FORBIDDEN,
    SequenceGap: CONFLICT,
    ClockSkew: CONFLICT,
    UnknownSticker: CONFLICT,
    TooManyStickers: CONFLICT,
    DeskError: UNPROCESSABLE,
    DeskBehind: UNAVAILABLE,
    # identity
    AccountNotFound: NOT_FOUND,
    AccountBanned: FORBIDDEN,
    IdentityTaken: CONFLICT,
    LastIdentity: CONFLICT,
    UnknownRole: UNPROCESSABLE,
    InvalidName: UNPROCESSABLE,
    AccountError: BAD_REQUEST,
    InvalidToken: UNAUTHENTICATED,
    GoogleAuthError: UNAUTHENTICATED,
    TelegramAuthError: UNAUTHENTICATED,
    # feedback
    InvalidFeedback: BAD_REQUEST,
    FeedbackNotFound: NOT_FOUND,
    FeedbackIdReused: CONFLICT,
    FeedbackError: BAD_REQUEST,
    # quiz
    quiz.NotAllowed: FORBIDDEN,
    quiz.GameNotFound: NOT_FOUND,
    quiz.TaskNotFound: NOT_FOUND,
    quiz.SessionNotFound: NOT_FOUND,
    quiz.WrongCode: NOT_FOUND,
    quiz.ImageNotFound: UNPROCESSABLE,
    quiz.BadPlayerToken: FORBIDDEN,
    quiz.PlayerKicked: FORBIDDEN,
    quiz.GameStarted: CONFLICT,
    quiz.NicknameTaken: CONFLICT,
    quiz.AlreadyAnswered: CONFLICT,
    quiz.DeadlinePassed: CONFLICT,
    quiz.TaskNotCurrent: CONFLICT,
    quiz.SessionPaused: CONFLICT,
    quiz.WrongPhase: CONFLICT,
    quiz.SessionEnded: GONE,
    quiz.NoTasks: UNPROCESSABLE,
    quiz.ImageTooLarge: _kind(413),
    quiz.QuizError: UNPROCESSABLE,
    # relay rooms (v1 clients get the status as the `code` of an error frame or body)
    BadRelayRequest: BAD_REQUEST,
    NotAllowed: FORBIDDEN,
    RoomNotFound: NOT_FOUND,
    RoomFull: BAD_REQUEST,
    RoomClosed: GONE,
    TooManyClients: BAD_REQUEST,
    InvalidRoom: BAD_REQUEST,
    TooManyAttempts: TOO_MANY,
    ApiKeyRequired: UNAUTHENTICATED,
    RelayError: BAD_REQUEST,
    # billiards
    billiards.UnknownParameter: UNPROCESSABLE,
    billiards.InvalidParameter: UNPROCESSABLE,
    billiards.UnknownGame: UNPROCESSABLE,
    billiards.TemplateNotFound: NOT_FOUND,
    billiards.NotTemplateOwner: FORBIDDEN,
    billiards.MatchNotFound: NOT_FOUND,
    billiards.MatchNotFinished: CONFLICT,
    billiards.PlayerNotFound: NOT_FOUND,
    billiards.InvalidSeason: UNPROCESSABLE,
    billiards.InvalidMatch: UNPROCESSABLE,
    billiards.InvalidShot: UNPROCESSABLE,
    billiards.TooManyBalls: UNPROCESSABLE,
    billiards.NotYourTurn: CONFLICT,
    billiards.MatchOver: CONFLICT,
    billiards.MatchStarted: CONFLICT,
    billiards.MatchFull: CONFLICT,
    billiards.NothingToUndo: CONFLICT,
    billiards.DrawNotAllowed: CONFLICT,
    billiards.KeyReused: CONFLICT,
    billiards.NotAPlayer: FORBIDDEN,
    billiards.NotScorekeeper: FORBIDDEN,
    billiards.WrongInvite: FORBIDDEN,
    billiards.ClubNotFound: NOT_FOUND,
    billiards.InvalidQueue: UNPROCESSABLE,
    billiards.NotInQueue: CONFLICT,
    billiards.AlreadyQueued: CONFLICT,
    billiards.NoProfile: CONFLICT,
    billiards.CannotFriendYourself: UNPROCESSABLE,
    billiards.BlockedByPlayer: FORBIDDEN,
    billiards.YouBlocked: CONFLICT,
    billiards.AlreadyFriends: CONFLICT,
    billiards.NoFriendRequest: CONFLICT,
    billiards.NotFriends: FORBIDDEN,
    billiards.TooManyFriends: CONFLICT,
    billiards.GroupNotFound: NOT_FOUND,
    billiards.InvalidGroup: UNPROCESSABLE,
    billiards.NotGroupMember: FORBIDDEN,
    billiards.NotGroupAdmin: FORBIDDEN,
    billiards.AlreadyMember: CONFLICT,
    billiards.NoJoinRequest: CONFLICT,
    billiards.WrongGroupInvite: FORBIDDEN,
    billiards.OwnerStays: CONFLICT,
    billiards.BilliardsError: BAD_REQUEST,
    # the spine
    RateLimited: TOO_MANY,
    WriterStopped: UNAVAILABLE,
    StoreUnavailable: UNAVAILABLE,
    WriterBusy: UNAVAILABLE,
    StoreAway: UNAVAILABLE,
}
"""Error classes of the contexts and the spine; a subclass not listed takes its base's kind."""

CODES: dict[str, Kind] = {
    # the request itself
    "bad_request": BAD_REQUEST,
    "invalid_request": BAD_REQUEST,
    "invalid_message": BAD_REQUEST,
    "invalid_text": UNPROCESSABLE,
    "invalid_sign_in": UNPROCESSABLE,  # well-formed, but not exactly one way to sign in
    "invalid_identity": BAD_REQUEST,
    "invalid_update": BAD_REQUEST,
    "hello_first": BAD_REQUEST,
    "wrong_client": BAD_REQUEST,
    "unsupported_media_type": _kind(415),
    "body_too_large": _kind(413, close=1009),
    "frame_too_large": _kind(413, close=1009),
    "method_not_allowed": _kind(405),
    # who is asking
    "unauthenticated": UNAUTHENTICATED,
    "auth_required": UNAUTHENTICATED,
    "invalid_token": UNAUTHENTICATED,
    "invalid_secret": UNAUTHENTICATED,
    "session_revoked": UNAUTHENTICATED,
    "ticket_used": UNAUTHENTICATED,
    "forbidden": FORBIDDEN,
    "account_required": FORBIDDEN,
    "guest_sign_in_off": FORBIDDEN,
    "origin_not_allowed": FORBIDDEN,
    "bad_session_key": FORBIDDEN,
    "rate_limited": TOO_MANY,
    # what is asked for
    "not_found": NOT_FOUND,
    "account_not_found": NOT_FOUND,
    "canvas_not_found": NOT_FOUND,
    "desk_not_found": NOT_FOUND,
    "match_not_found": NOT_FOUND,
    "club_not_found": NOT_FOUND,
    "no_current_canvas": NOT_FOUND,
    "version_not_found": NOT_FOUND,
    "pixel_out_of_bounds": UNPROCESSABLE,  # well-formed, outside this canvas (as a placement)
    "version_in_future": UNPROCESSABLE,
    "invalid_version": UNPROCESSABLE,  # `?at_seq=` that is not a whole number from 0 up
    "gone": GONE,
    "desk_gone": GONE,
    "conflict": CONFLICT,
    "not_playing": CONFLICT,
    # the canvas's history
    "invalid_time": UNPROCESSABLE,  # a string, but not a time: well-formed, refused for what it says
    "time_in_future": UNPROCESSABLE,
    "before_canvas": NOT_FOUND,
    "invalid_export": UNPROCESSABLE,
    "invalid_timelapse": UNPROCESSABLE,
    "invalid_map": UNPROCESSABLE,
    "invalid_replay": UNPROCESSABLE,
    "range_not_satisfiable": _kind(416),
    "session_not_found": NOT_FOUND,
    "image_not_found": NOT_FOUND,
    "bad_player_token": FORBIDDEN,
    "player_kicked": FORBIDDEN,
    "not_allowed": FORBIDDEN,
    # the socket's own life (a socket that falls behind closes in the live layer: 4408 too_slow)
    "afk": Kind(409, close=4001),
    # the service
    "try_again": UNAVAILABLE,
    "unavailable": UNAVAILABLE,
    "internal": Kind(500, close=1011),
    "degraded": UNAVAILABLE,  # `GET /health`: a read model is stalled or far behind
    "not_ready": UNAVAILABLE,  # `GET /readyz`: a dependency, a loop or a read model is not
}
"""Refusals a handler or a socket names by code (`ApiError`, `close_socket`)."""
