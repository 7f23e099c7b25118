"""Where in history a read asks to be: the `?at_seq=` of a desk or a quiz session as it was at one
of its versions, and times (`?t=`, `before=`): taken as text so that a bad one gets its own 422,
not a generic 400 (nor a number read as a time)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.errors import ApiError

MAX_SEQ = 2**62


def parse_seq(text: str | None, name: str = "at_seq") -> int | None:
    """A version: a whole number from 0 up (None when not asked). A version past the last one
    is for the caller to refuse (`version_not_found`), as only it knows the last."""
    if text is None:
        return None
    value = text.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19 or int(value) > MAX_SEQ:
        raise ApiError("invalid_version", f"{name}={text!r} is not a version (0, 1, 2, …)")
    return int(value)


def required_seq(text: str, name: str) -> int:
    """`parse_seq` of a parameter that is always there."""
    value = parse_seq(text, name)
    if value is None:
        raise ApiError("invalid_version", f"{name} is missing")
    return value


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ApiError("invalid_time", f"{text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
