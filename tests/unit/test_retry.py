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


async def fail_once(retry: Retry) -> None:
    try:
        raise ConnectionRefusedError("nobody there")
    except ConnectionRefusedError:
        await retry.failed()


async def test_the_first_failure_in_a_row_is_logged_in_full_and_the_next_ones_in_a_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    retry = Retry(log, "relay desk", "publishing failed", sleep=Sleeps())
    with caplog.at_level(logging.INFO, logger=log.name):
        for _ in range(3):
            await fail_once(retry)
    first, *later = caplog.records
    assert first.levelno == logging.ERROR and first.exc_info is not None
    assert [record.levelno for record in later] == [logging.WARNING, logging.WARNING]
    assert all(record.exc_info is None for record in later)
    assert "publishing failed again (3 in a row" in later[-1].getMessage()
    assert "nobody there" in later[-1].getMessage()


async def test_the_wait_doubles_with_each_failure_in_a_row_up_to_the_most() -> None:
    sleeps = Sleeps()
    retry = Retry(log, "projection desks", "a batch failed", first_s=0.5, max_s=4.0, sleep=sleeps)
    for _ in range(6):
        await fail_once(retry)
    assert sleeps.delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_a_success_is_reported_once_and_the_next_failure_waits_the_first_delay_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps = Sleeps()
    retry = Retry(log, "projection desks", "a batch failed", first_s=0.5, sleep=sleeps)
    await fail_once(retry)
    await fail_once(retry)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=log.name):
        retry.succeeded()
        retry.succeeded()
    assert [record.getMessage() for record in caplog.records] == [
        "projection desks: works again after 2 failures"
    ]
    await fail_once(retry)
    assert sleeps.delays == [0.5, 1.0, 0.5]


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
