"""The `?at_seq=` of the history reads (a desk, a quiz session as it was at one of its versions):
taken as text so that a bad one gets the history's own 422, not a generic 400."""

from __future__ import annotations

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
