"""What the relay refuses. Each leaf has a wire `code`; the error map (`api/errors.py`) gives it
its HTTP status, which v1 clients also receive as an `Error.Code` in a `RESPONSE_ERROR` frame."""

from __future__ import annotations


class RelayError(Exception):
    """Base of every refusal about relay rooms."""

    code = "relay_error"


class BadRelayRequest(RelayError):
    """The request cannot be served as sent (400): a malformed frame, a missing target, a client
    that is not in the room, a second connect on one socket."""

    code = "relay_bad_request"


class NotAllowed(RelayError):
    """The room's protocol does not let this client do that (403)."""

    code = "relay_forbidden"


class Banned(NotAllowed):
    """Kicked from this room: the client may not come back (403)."""

    code = "relay_banned"


class WrongClientSecret(NotAllowed):
    code = "relay_wrong_client_secret"


class RoomNotFound(RelayError):
    """No room has this id, or its secret is not the one given: the two are told apart to
    nobody, so a guesser learns nothing (404)."""

    code = "relay_room_not_found"


class RoomFull(RelayError):
    code = "relay_room_full"


class RoomClosed(RelayError):
    """The room was closed: nothing more happens in it (410)."""

    code = "relay_room_closed"


class TooManyClients(RelayError):
    """Creating this room would commit more clients than the server allows (400, as the
    original server answers)."""

    code = "relay_too_many_clients"


class InvalidRoom(RelayError):
    """A room creation request out of range: `max_clients` below 1 or above the per-room cap,
    an unknown protocol (400)."""

    code = "relay_invalid_room"


class TooManyAttempts(RelayError):
    """Too many failed connects from this address or to this room: wait (429)."""

    code = "relay_too_many_attempts"

    def __init__(self, detail: str, wait_ms: int) -> None:
        super().__init__(detail)
        self.wait_ms = wait_ms


class ApiKeyRequired(RelayError):
    """`TESSERA_RELAY_API_KEY` is set and the request did not carry it (401)."""

    code = "relay_api_key_required"
