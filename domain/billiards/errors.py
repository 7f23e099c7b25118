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
    """No such player where one was looked for: no finished match of theirs (in this game)
    yet, or no profile with that share link or Telegram username."""

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


# -- friends and groups (domain/billiards/player.py, group.py) ---------------------------------


class NoProfile(BilliardsError):
    """The caller has no billiards profile yet (`PUT /api/billiards/me` makes it)."""

    code = "no_profile"


class CannotFriendYourself(BilliardsError):
    code = "cannot_friend_yourself"


class BlockedByPlayer(BilliardsError):
    """The other player blocked the caller: no requests, no invitations."""

    code = "blocked"


class YouBlocked(BilliardsError):
    """The caller blocked the other player: unblock first."""

    code = "you_blocked_them"


class AlreadyFriends(BilliardsError):
    code = "already_friends"


class NoFriendRequest(BilliardsError):
    code = "no_friend_request"


class NotFriends(BilliardsError):
    code = "not_friends"


class TooManyFriends(BilliardsError):
    code = "too_many_friends"


class GroupNotFound(BilliardsError):
    code = "group_not_found"


class InvalidGroup(BilliardsError):
    code = "invalid_group"


class NotGroupMember(BilliardsError):
    code = "not_group_member"


class NotGroupAdmin(BilliardsError):
    """Only the group's owner or admins (or, for roles, its owner) do that."""

    code = "not_group_admin"


class AlreadyMember(BilliardsError):
    code = "already_member"


class NoJoinRequest(BilliardsError):
    code = "no_join_request"


class WrongGroupInvite(BilliardsError):
    code = "wrong_group_invite"


class OwnerStays(BilliardsError):
    """The owner cannot leave or be removed: hand the group over first."""

    code = "owner_stays"
