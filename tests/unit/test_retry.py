import asyncio
import logging

import pytest

from infra.retry import NatsConnectionLog, Retry

log = logging.getLogger("tests.retry")


class Client:
    """The connection's side that the log reads: whether we closed it ourselves."""

    def __init__(self) -> None:
        self.is_closed = False


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


class Away:
    """A loop's step while its dependency is away for `failures` tries, then back."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tries = 0

    async def __call__(self) -> None:
        self.tries += 1
        if self.tries <= self.failures:
            raise ConnectionRefusedError("nobody there")


async def test_the_first_failure_in_a_row_is_logged_in_full_and_the_next_ones_in_a_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    retry = Retry(log, "relay desk", "publishing failed", sleep=Sleeps())
    with caplog.at_level(logging.INFO, logger=log.name):
        await retry(Away(failures=3))
    first, *later, _recovered = caplog.records
    assert first.levelno == logging.ERROR and first.exc_info is not None
    assert [record.levelno for record in later] == [logging.WARNING, logging.WARNING]
    assert all(record.exc_info is None for record in later)
    assert "publishing failed again (3 in a row" in later[-1].getMessage()
    assert "nobody there" in later[-1].getMessage()


async def test_the_wait_doubles_with_each_failure_in_a_row_up_to_the_most() -> None:
    sleeps = Sleeps()
    retry = Retry(log, "projection desks", "a batch failed", first_s=0.5, max_s=4.0, sleep=sleeps)
    step = Away(failures=6)
    await retry(step)
    assert sleeps.delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert step.tries == 7


async def test_a_step_may_be_any_callable_that_returns_an_awaitable() -> None:
    retry = Retry(log, "revoked sessions", "a refresh failed", sleep=Sleeps())
    step = Away(failures=1)
    await retry(lambda: step())
    assert step.tries == 2


async def test_a_success_is_reported_once_and_the_next_failure_waits_the_first_delay_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps = Sleeps()
    retry = Retry(log, "projection desks", "a batch failed", first_s=0.5, sleep=sleeps)
    with caplog.at_level(logging.INFO, logger=log.name):
        await retry(Away(failures=2))
        await retry(Away(failures=0))
    assert [r.getMessage() for r in caplog.records if "works again" in r.getMessage()] == [
        "projection desks: works again after 2 failures"
    ]
    await retry(Away(failures=1))
    assert sleeps.delays == [0.5, 1.0, 0.5]


async def test_a_step_that_fails_while_its_task_is_stopping_is_not_tried_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps = Sleeps()
    retry = Retry(log, "revoked sessions", "a refresh failed", sleep=sleeps)
    step = Away(failures=1)

    async def stopping() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:  # swallowed, as some libraries on the way do
            pass
        await step()

    with caplog.at_level(logging.INFO, logger=log.name):
        await asyncio.create_task(retry(stopping))
    assert step.tries == 1
    assert sleeps.delays == []
    assert caplog.records == []


async def test_a_lost_nats_connection_is_reported_once_until_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connection = NatsConnectionLog(log, "tessera", Client())
    with caplog.at_level(logging.INFO, logger=log.name):
        await connection.error(EOFError("unexpected EOF"))
        await connection.disconnected()
        for _ in range(5):  # every reconnect attempt fails
            await connection.error(ConnectionRefusedError("refused"))
            await connection.disconnected()
        await connection.reconnected()
    assert [(record.levelno, record.getMessage()) for record in caplog.records] == [
        (logging.ERROR, "NATS connection tessera: EOFError('unexpected EOF')"),
        (logging.WARNING, "NATS connection tessera lost; reconnecting"),
        (logging.WARNING, "NATS connection tessera is back"),
    ]


async def test_closing_the_connection_ourselves_is_not_reported_as_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client()
    connection = NatsConnectionLog(log, "tessera", client)
    client.is_closed = True
    with caplog.at_level(logging.INFO, logger=log.name):
        await connection.disconnected()
    assert caplog.records == []
