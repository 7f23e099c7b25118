"""How a background loop and a NATS connection report a dependency that is away: the first
failure in full, the ones after it in a line each, and the recovery, while the loop waits a
little longer after each failure in a row.

With NATS down for a quarter of an hour, the projections' retries every half second and the
client's reconnect attempts every two seconds had written 80,000 lines of tracebacks.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from nats.aio.client import Client as NATS

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 10.0
"""At most this long between tries: what a loop adds to an outage once the service is back."""


class Retry:
    """`await retry.failed()` in a loop's `except` block; `retry.succeeded()` once a round
    worked again."""

    def __init__(
        self,
        log: logging.Logger,
        who: str,
        failure: str,
        *,
        first_s: float = FIRST_DELAY_S,
        max_s: float = MAX_DELAY_S,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._log = log
        self._who = who
        self._failure = failure
        self._first_s = first_s
        self._max_s = max_s
        self._sleep = sleep
        self.failures = 0
        """Failures in a row."""

    def delay(self) -> float:
        """The wait after the failure just counted: doubling from the first, up to the most."""
        return min(self._first_s * 2 ** max(self.failures - 1, 0), self._max_s)

    async def failed(self) -> None:
        """Logs the exception being handled and waits before the next try."""
        self.failures += 1
        delay = self.delay()
        if self.failures == 1:
            self._log.exception("%s: %s; trying again in %.1f s", self._who, self._failure, delay)
        else:
            self._log.warning(
                "%s: %s again (%d in a row: %r); trying again in %.1f s",
                self._who,
                self._failure,
                self.failures,
                sys.exc_info()[1],
                delay,
            )
        await self._sleep(delay)

    def succeeded(self) -> None:
        if self.failures:
            self._log.warning("%s: works again after %d failures", self._who, self.failures)
            self.failures = 0


class Connection(Protocol):
    @property
    def is_closed(self) -> bool:
        """Closed by its owner (the client calls `disconnected_cb` then too)."""


class NatsConnectionLog:
    """A NATS client's callbacks (see `connect_nats`): a lost connection is reported once, and
    so is its return; errors while it is away (each reconnect attempt fails) only in a line at
    debug level, and a close of our own not at all."""

    def __init__(self, log: logging.Logger, name: str, connection: Connection) -> None:
        self._log = log
        self._name = name
        self._connection = connection
        self._away = False

    async def error(self, error: Exception) -> None:
        if self._away:
            self._log.debug("NATS connection %s still away: %r", self._name, error)
        else:
            self._log.error("NATS connection %s: %r", self._name, error, exc_info=error)

    async def disconnected(self) -> None:
        if not self._away and not self._connection.is_closed:
            self._away = True
            self._log.warning("NATS connection %s lost; reconnecting", self._name)

    async def reconnected(self) -> None:
        self._away = False
        self._log.warning("NATS connection %s is back", self._name)


async def connect_nats(url: str, name: str, log: logging.Logger, **options: Any) -> NATS:
    """A NATS connection that reconnects for ever and reports its outages through `log`."""
    client = NATS()
    report = NatsConnectionLog(log, name, client)
    await client.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        error_cb=report.error,
        disconnected_cb=report.disconnected,
        reconnected_cb=report.reconnected,
        **options,
    )
    return client
