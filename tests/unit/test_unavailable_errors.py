import asyncpg
from eventsourcing.persistence import OperationalError

from api.errors import handle_error
from commands.writer import StoreUnavailable
from domain.canvas import OpStale


def answer(error: Exception) -> tuple[int, dict[str, object]]:
    response = handle_error(None, error)  # type: ignore[arg-type]
    return response.status_code, response.content


def test_a_database_that_is_away_is_a_503_to_try_again_shortly():
    for error in (
        OperationalError("couldn't get a connection after 3.00 sec"),
        ConnectionRefusedError(111, "Connection refused"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    ):
        status, body = answer(error)
        assert (status, body["error"], body["wait_ms"]) == (503, "unavailable", 2000)


def test_a_command_the_store_could_not_take_is_a_503_to_send_again():
    status, body = answer(StoreUnavailable("the event store is unavailable: nothing was saved"))
    assert (status, body["error"]) == (503, "try_again")
    assert "unavailable" in str(body["detail"])


def test_a_stale_op_is_a_503_to_send_again_at_once():
    status, body = answer(OpStale("op 'a' waited here: nothing was placed, send it again"))
    assert (status, body["error"], body["wait_ms"]) == (503, "try_again", 0)


def test_any_other_failure_is_still_a_500():
    status, body = answer(KeyError("bug"))
    assert (status, body["error"]) == (500, "internal")
