"""Every refusal of the quiz context; `code` names it on the wire."""

from __future__ import annotations


class QuizError(Exception):
    code = "quiz_error"


class InvalidGame(QuizError):
    code = "invalid_game"


class InvalidTask(QuizError):
    code = "invalid_task"


class InvalidAnswer(QuizError):
    code = "invalid_answer"


class NotAllowed(QuizError):
    """Only the game's owner and its admins may do that."""

    code = "not_allowed"


class GameNotFound(QuizError):
    code = "game_not_found"


class TaskNotFound(QuizError):
    code = "task_not_found"


class SessionNotFound(QuizError):
    code = "session_not_found"


class WrongCode(QuizError):
    code = "wrong_code"


class GameStarted(QuizError):
    code = "game_started"


class NicknameTaken(QuizError):
    code = "nickname_taken"


class InvalidNickname(QuizError):
    code = "invalid_nickname"


class BadPlayerToken(QuizError):
    code = "bad_player_token"


class PlayerKicked(QuizError):
    code = "player_kicked"


class AlreadyAnswered(QuizError):
    code = "already_answered"


class DeadlinePassed(QuizError):
    code = "deadline_passed"


class TaskNotCurrent(QuizError):
    code = "task_not_current"


class SessionPaused(QuizError):
    code = "session_paused"


class WrongPhase(QuizError):
    """The session is not in a state where that makes sense (e.g. pausing in the lobby)."""

    code = "wrong_phase"


class SessionEnded(QuizError):
    code = "session_ended"


class NoTasks(QuizError):
    code = "no_tasks"


class ImageNotFound(QuizError):
    code = "image_not_found"


class InvalidImage(QuizError):
    code = "invalid_image"


class ImageTooLarge(QuizError):
    code = "image_too_large"
