"""Text as clients send it: refused at decode time if it holds a control character.

PostgreSQL refuses a NUL in a `text` column, so a NUL that reached an event would stop every read
model that stores it; the other C0 controls, DEL and the C1 controls have no business in a name or
a message either. Every free-text field of a request or a frame is a `Line` (one line) or `Lines`
(tab, newline and carriage return allowed), under whatever length bounds it has as well:
`Annotated[Line, msgspec.Meta(max_length=200)]`.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$(?!\n)"
"""No control character. (`$` alone would let one trailing newline through; the lookahead also
reads the same in a JSON Schema regex, unlike `\\Z`.)"""
LINES_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
"""No control character but tab, newline and carriage return."""

Line = Annotated[str, msgspec.Meta(pattern=LINE_PATTERN)]
Lines = Annotated[str, msgspec.Meta(pattern=LINES_PATTERN)]

_REFUSED = tuple(f"matching regex {pattern!r}" for pattern in (LINE_PATTERN, LINES_PATTERN))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def refuses_control_characters(message: str) -> bool:
    """Whether a decode error's message (msgspec's, or the part of it Litestar reports) is a
    `Line` or `Lines` refusing a control character."""
    return any(refused in message for refused in _REFUSED)


def printable(text: str) -> str:
    """`text` without its control characters (but tab, newline and carriage return), for text
    that arrives from elsewhere than a decoded request: a header, a sign-in provider's name."""
    return _CONTROL.sub("", text)


def escaped(text: str) -> str:
    """`text` with its control characters (but tab and newline) written as `\\xNN` escapes: an
    error message quoting a client's text, stored or logged as it is."""
    return re.sub(
        r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", lambda match: f"\\x{ord(match.group()):02x}", text
    )
