"""Failed connects are limited per address, per room, and per room and address (lockout)."""

from __future__ import annotations

import pytest

from domain.relay.errors import TooManyAttempts
from infra.relay.limits import AttemptLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def a_limiter(clock: Clock, **overrides: float) -> AttemptLimiter:
    options = {"window_s": 60, "per_ip": 5, "per_room": 8, "lockout_after": 3, "lockout_s": 600}
    return AttemptLimiter(**(options | overrides), clock=clock)  # type: ignore[arg-type]


def test_failures_below_the_limits_refuse_nothing():
    limiter = a_limiter(Clock())
    for _ in range(2):
        limiter.failed("1.2.3.4", 7)
    limiter.check("1.2.3.4", 7)


def test_an_address_over_its_limit_waits_for_the_window_to_end():
    clock = Clock()
    limiter = a_limiter(clock, lockout_after=100)
    for room in range(5):
        limiter.failed("1.2.3.4", room)
    with pytest.raises(TooManyAttempts) as refused:
        limiter.check("1.2.3.4", 99)
    assert refused.value.wait_ms == 60_000
    limiter.check("5.6.7.8", 99)
    clock.now = 61
    limiter.check("1.2.3.4", 99)


def test_wrong_secrets_lock_an_address_out_of_that_room_only():
    clock = Clock()
    limiter = a_limiter(clock)
    for _ in range(3):
        limiter.failed("1.2.3.4", 7)
    with pytest.raises(TooManyAttempts):
        limiter.check("1.2.3.4", 7)
    limiter.check("1.2.3.4", 8)
    limiter.check("5.6.7.8", 7)
    clock.now = 120  # past the window, within the lockout
    with pytest.raises(TooManyAttempts):
        limiter.check("1.2.3.4", 7)


def test_a_room_failing_for_many_addresses_refuses_everyone_until_the_window_ends():
    clock = Clock()
    limiter = a_limiter(clock)
    for n in range(8):
        limiter.failed(f"10.0.0.{n}", 7)
    with pytest.raises(TooManyAttempts):
        limiter.check("10.9.9.9", 7)
    clock.now = 61
    limiter.check("10.9.9.9", 7)


def test_expired_counts_are_forgotten():
    clock = Clock()
    limiter = a_limiter(clock)
    limiter.failed("1.2.3.4", 7)
    clock.now = 1000
    limiter.prune(clock.now)
    assert not limiter._ips and not limiter._rooms and not limiter._lockouts
