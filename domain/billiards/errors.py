"""Every refusal of the billiards context; `code` names it on the wire."""

from __future__ import annotations


class BilliardsError(Exception):
    code = "billiards_error"


class UnknownParameter(BilliardsError):
    code = "unknown_parameter"


class InvalidParameter(BilliardsError):
    code = "invalid_parameter"


class UnknownGame(BilliardsError):
    code = "unknown_game"


class TemplateNotFound(BilliardsError):
    code = "template_not_found"


class NotTemplateOwner(BilliardsError):
    code = "not_template_owner"


class MatchNotFound(BilliardsError):
    code = "match_not_found"


class MatchNotFinished(BilliardsError):
    """A replay is of a finished match."""

    code = "match_not_finished"


class PlayerNotFound(BilliardsError):
    """No finished match of this player (in this game) yet."""

    code = "player_not_found"


class InvalidSeason(BilliardsError):
    code = "invalid_season"


class InvalidMatch(BilliardsError):
    code = "invalid_match"


class InvalidShot(BilliardsError):
    code = "invalid_shot"


class NotYourTurn(BilliardsError):
    code = "not_your_turn"


class TooManyBalls(BilliardsError):
    code = "too_many_balls"


class MatchOver(BilliardsError):
    code = "match_over"


class MatchStarted(BilliardsError):
    """Seats, the breaker and the order are fixed once the first shot is played."""

    code = "match_started"


class NotAPlayer(BilliardsError):
    code = "not_a_player"


class NotScorekeeper(BilliardsError):
    code = "not_scorekeeper"


class WrongInvite(BilliardsError):
    code = "wrong_invite"


class MatchFull(BilliardsError):
    code = "match_full"


class NothingToUndo(BilliardsError):
    code = "nothing_to_undo"


class DrawNotAllowed(BilliardsError):
    code = "draw_not_allowed"


class KeyReused(BilliardsError):
    """A client key sent again with another command."""

    code = "key_reused"


class ClubNotFound(BilliardsError):
    code = "club_not_found"


class InvalidQueue(BilliardsError):
    code = "invalid_queue"


class NotInQueue(BilliardsError):
    code = "not_in_queue"


class AlreadyQueued(BilliardsError):
    code = "already_queued"
