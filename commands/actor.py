"""Who issues a command."""

from __future__ import annotations


class Actor:
    """An account (or, in development, a named user) acting through one sign-in session."""

    __slots__ = ("is_admin", "session", "user")

    def __init__(self, user: str, *, is_admin: bool = False, session: str | None = None) -> None:
        self.user = user
        self.is_admin = is_admin
        self.session = session
