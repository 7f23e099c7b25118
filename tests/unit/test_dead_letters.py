"""Which failures a projection may blame on an event (and set that event aside for), and how a
dead letter's error is kept."""

from __future__ import annotations

import asyncpg
import asyncpg.exceptions._base as asyncpg_base
import msgspec
import pytest

from infra.spine.dead_letters import describe, poisonous


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00"),
        asyncpg.NumericValueOutOfRangeError("integer out of range"),
        asyncpg.UniqueViolationError("duplicate key"),
        asyncpg_base.DataError("invalid input for query argument $1"),
        msgspec.ValidationError("Expected `int`, got `str`"),
        KeyError("canvas"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_refusal_of_an_events_data_is_blamed_on_the_event(error: Exception):
    assert poisonous(error)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(),
        TimeoutError(),
        OSError("network is unreachable"),
        asyncpg.PostgresConnectionError("connection failure"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.TooManyConnectionsError("too many clients"),
        asyncpg.UndefinedTableError('relation "feedback_views" does not exist'),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_outage_or_a_missing_table_is_never_blamed_on_an_event(error: Exception):
    assert not poisonous(error)


def test_a_dead_letters_error_keeps_no_control_character():
    assert describe(ValueError("bad title 'a\x00b\x1b[2J'")) == (
        "ValueError: bad title 'a\\x00b\\x1b[2J'"
    )
