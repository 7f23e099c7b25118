"""While the event store cannot be reached: refuse every call at once, and look for the database
in the background until it is back.

The library's recorders tried each call ten times, each try waiting up to the pool's timeout for a
connection: with PostgreSQL away, one call took about 32 s, and a writer's callers queued behind
it (the issue's placements got `503 try_again` after 32-67 s, desk ops never). Now each call is
tried once (`infra.spine.recorder`), and a failure that means the database is away (no
connection to be had, or the one in hand broke) opens an `Outage`: until a probe connects again,
every call is refused with `StoreAway` before it touches the pool, so each command is answered
`503 try_again` at once. The first probe runs at once (a restart that is already over costs one
refused call), then after `first_delay_s`, doubling up to `max_delay_s`.

A pool that gave no connection within its wait counts as away too, whether the database is gone
or only out of connections ("too many clients") or slots: either way the callers are better told
at once. When it was only busy, the first probe connects and ends the outage in milliseconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from eventsourcing.persistence import OperationalError

log = logging.getLogger(__name__)

SERVER_GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})
"""admin_shutdown, crash_shutdown, cannot_connect_now: the server is stopping or starting."""


class StoreAway(OperationalError):
    """The event store was found unreachable and has not been reached since: nothing was tried,
    so nothing was saved."""


def connection_lost(error: BaseException) -> bool:
    """The database is away: no connection could be had (the pool's timeout, a refused connect)
    or the one in use broke; not a statement refused on a working connection (a lock timeout,
    a constraint). The library raises its own error `from` psycopg's."""
    cause = error if isinstance(error, psycopg.Error) else error.__cause__
    if not isinstance(cause, (psycopg.OperationalError, psycopg.InterfaceError)):
        return False
    state = cause.sqlstate
    return state is None or state.startswith("08") or state in SERVER_GOING_AWAY


class Outage:
    """A store's availability: `check()` raises `StoreAway` while it is away; `failed(error)`
    makes it away when `error` says the database is, and starts `probe` in a thread of its own,
    tried until it returns without raising."""

    def __init__(
        self,
        name: str,
        probe: Callable[[], None],
        *,
        first_delay_s: float = 0.1,
        max_delay_s: float = 1.0,
    ) -> None:
        self.name = name
        self._probe = probe
        self._first_delay_s = first_delay_s
        self._max_delay_s = max(max_delay_s, first_delay_s)
        self._lock = threading.Lock()
        self._since: float | None = None
        self._prober: threading.Thread | None = None
        self._closed = threading.Event()
        self.outages = 0

    @property
    def away(self) -> bool:
        return self._since is not None

    def check(self) -> None:
        since = self._since
        if since is not None:
            raise StoreAway(
                f"the event store has been unreachable for {time.monotonic() - since:.1f} s"
            )

    def failed(self, error: BaseException) -> None:
        if not connection_lost(error) or self._closed.is_set():
            return
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
            self.outages += 1
            self._prober = threading.Thread(
                target=self._probe_until_back, name=f"probe-{self.name}", daemon=True
            )
            self._prober.start()
        log.error(
            "event store %s unreachable: %r; commands are refused until it is back",
            self.name,
            error,
        )

    def close(self) -> None:
        """Stop probing (the store stays as it is); the probe's thread ends after its try."""
        self._closed.set()

    def _probe_until_back(self) -> None:
        delay = self._first_delay_s
        tries = 0
        while not self._closed.is_set():
            tries += 1
            try:
                self._probe()
            except Exception as error:  # noqa: BLE001 - whatever it is, the store is not back
                log.debug("event store %s still away (try %d): %r", self.name, tries, error)
                self._closed.wait(delay)
                delay = min(delay * 2, self._max_delay_s)
                continue
            with self._lock:
                since, self._since, self._prober = self._since, None, None
            away_s = time.monotonic() - since if since is not None else 0.0
            log.warning("event store %s is back after %.1f s (%d tries)", self.name, away_s, tries)
            return
