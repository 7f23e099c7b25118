"""How a background loop and a NATS connection report a dependency that is away: the first
failure in full, the ones after it in a line each, and the recovery, while the loop waits a
little longer after each failure in a row.

With NATS down for a quarter of an hour, the projections' retries every half second and the
client's reconnect attempts every two seconds had written 80,000 lines of tracebacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import tenacity
from nats.aio.client import Client as NATS

from infra.tasks import stop_requested

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 10.0
"""At most this long between tries: what a loop adds to an outage once the service is back."""


class Retry:
    """`await retry(step)` runs one step of a background loop until it works: a step that
    fails is tried again after a wait that doubles with each failure in a row, from `first_s` up
    to `max_s`. Tenacity keeps the policy; this class says how the failures are told."""

    def __init__(
        self,
        log: logging.Logger,
        who: str,
        failure: str,
        *,
        first_s: float = FIRST_DELAY_S,
        max_s: float = MAX_DELAY_S,
        sleep: Callable[[float], Awaitable[None] | None] = asyncio.sleep,
    ) -> None:
        self._log = log
        self._who = who
        self._failure = failure
        self._retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(Exception),
            wait=tenacity.wait_exponential(multiplier=first_s, max=max_s),
            stop=_asked_to_stop,
            retry_error_callback=_no_more_tries,
            before_sleep=self._failed,
            sleep=sleep,
        )

    async def __call__(self, step: Callable[[], Awaitable[object]]) -> None:
        """Runs `step` until it returns, or until it fails once the task is asked to stop.

        A step that works the first time never meets tenacity: its machinery cost 23 µs a call,
        and the projections' runners and the publishers call this for every batch. A failure
        is then handed to it as its first attempt's, so that the policy and the reports are
        the same as if it had run the step itself."""
        try:
            await step()
            return
        except Exception as error:  # noqa: BLE001 - handed on to the policy below
            first_failure: Exception | None = error

        async def attempt() -> None:  # tenacity awaits only what an `async def` returns
            nonlocal first_failure
            if first_failure is not None:
                failure, first_failure = first_failure, None
                raise failure
            await step()

        await self._retrying(attempt)
        failures = self._retrying.statistics["attempt_number"] - 1
        if failures and not stop_requested():
            self._log.warning("%s: works again after %d failures", self._who, failures)

    def _failed(self, state: tenacity.RetryCallState) -> None:
        assert state.outcome is not None
        error = state.outcome.exception()
        if state.attempt_number == 1:
            self._log.error(
                "%s: %s; trying again in %.1f s",
                self._who,
                self._failure,
                state.upcoming_sleep,
                exc_info=error,
            )
        else:
            self._log.warning(
                "%s: %s again (%d in a row: %r); trying again in %.1f s",
                self._who,
                self._failure,
                state.attempt_number,
                error,
                state.upcoming_sleep,
            )


def _asked_to_stop(state: tenacity.RetryCallState) -> bool:
    """A step that fails while its task is stopping is not tried again: the loop ends."""
    return stop_requested()


def _no_more_tries(state: tenacity.RetryCallState) -> None:
    """Instead of tenacity's `RetryError`: a stopping loop's last failure is no error."""


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


def servers_of(url: str) -> list[str]:
    """The servers of a comma-separated NATS URL."""
    return [server.strip() for server in url.split(",") if server.strip()]


async def connect_nats(url: str, name: str, log: logging.Logger, **options: Any) -> NATS:
    """A NATS connection that reconnects for ever and reports its outages through `log`. `url`
    may list the servers of a cluster, comma-separated (`nats://a:4222,nats://b:4222`): the
    client starts from any one that answers."""
    client = NATS()
    report = NatsConnectionLog(log, name, client)
    await client.connect(
        servers_of(url),
        name=name,
        max_reconnect_attempts=-1,
        error_cb=report.error,
        disconnected_cb=report.disconnected,
        reconnected_cb=report.reconnected,
        **options,
    )
    return client
