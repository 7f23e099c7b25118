"""The event store's outage (`infra.spine.outage`): which failures mean the database is away, how
calls are refused while it is, and how it ends. No database: a closed loopback port stands for
one that is away."""

from __future__ import annotations

import time

import asyncpg
import psycopg
import psycopg.errors
import psycopg_pool
import pytest
from eventsourcing.persistence import InfrastructureFactory, OperationalError

from api.errors import handle_error
from infra.settings import Settings
from infra.spine.eventstore import application_env
from infra.spine.outage import Outage, StoreAway, connection_lost
from tests.support.ports import free_port


def as_the_library_raises(error: psycopg.Error) -> OperationalError:
    try:
        raise OperationalError(str(error)) from error
    except OperationalError as raised:
        return raised


@pytest.mark.parametrize(
    "error",
    [
        psycopg_pool.PoolTimeout("couldn't get a connection after 1.00 sec"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.ConnectionFailure("connection failure"),
        psycopg.InterfaceError("the connection is closed"),
    ],
)
def test_failures_to_reach_the_database_mean_it_is_away(error):
    assert connection_lost(as_the_library_raises(error))


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        psycopg.errors.UniqueViolation("duplicate key value"),
    ],
)
def test_a_statement_refused_on_a_working_connection_is_no_outage(error):
    assert not connection_lost(as_the_library_raises(error))
    outage = Outage("events", lambda: None)
    outage.failed(as_the_library_raises(error))
    assert not outage.away
    outage.check()


def until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.005)


def test_an_outage_refuses_every_call_until_its_probe_connects_again():
    tries: list[bool] = []
    down = [True]

    def probe() -> None:
        tries.append(down[0])
        if down[0]:
            raise psycopg.OperationalError("connection refused")

    outage = Outage("events", probe, first_delay_s=0.001, max_delay_s=0.004)
    outage.failed(as_the_library_raises(psycopg.OperationalError("server closed the connection")))
    assert outage.away and outage.outages == 1
    for _ in range(3):
        with pytest.raises(StoreAway):
            outage.check()
    until(lambda: len(tries) >= 5)
    outage.failed(as_the_library_raises(psycopg_pool.PoolTimeout("again")))  # the same outage
    down[0] = False
    until(lambda: not outage.away)
    outage.check()
    assert tries[-1] is False and all(tries[:-1]) and outage.outages == 1


def test_a_store_nobody_answers_refuses_every_call_after_the_first_at_once():
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/none", store_timeout_ms=200
    )
    factory = InfrastructureFactory.construct(application_env(settings))
    try:
        with pytest.raises(OperationalError) as first:  # after the pool's wait, 0.1 s
            factory.application_recorder()  # it reads its types from the database
        assert not isinstance(first.value, StoreAway)
        for _ in range(5):  # then nothing is tried
            with pytest.raises(StoreAway), factory.datastore.get_connection():  # type: ignore[attr-defined]
                pass
    finally:
        factory.close()


def test_a_call_refused_while_the_store_is_away_is_a_503_to_send_again():
    response = handle_error(None, StoreAway("the event store has been unreachable for 1.0 s"))  # type: ignore[arg-type]
    assert (response.status_code, response.content["error"]) == (503, "try_again")
    assert response.content["wait_ms"] == 2000


def test_a_transaction_whose_connection_broke_under_it_is_a_503():
    try:
        try:
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
        except asyncpg.ConnectionDoesNotExistError:  # as asyncpg ends the transaction
            raise asyncpg.InterfaceError("cannot call Transaction.__aexit__(): closed")
    except asyncpg.InterfaceError as error:
        response = handle_error(None, error)  # type: ignore[arg-type]
    assert (response.status_code, response.content["error"]) == (503, "unavailable")
