"""The circuit breaker's states, driven by a clock the test moves."""

from __future__ import annotations

import pytest

from graphql_api.stores.backoff import full_jitter_delay
from graphql_api.stores.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, cooldown_s=5.0, clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


def test_opens_after_the_threshold_of_consecutive_failures(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 1)
    assert breaker.snapshot().state is BreakerState.OPEN
    assert breaker.allow() is False
    assert breaker.snapshot().times_opened == 1


def test_a_success_resets_the_run_of_failures(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot().consecutive_failures == 2


def test_open_refuses_until_the_cooldown_then_lets_one_probe_through(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.now += 4.9
    assert breaker.allow() is False
    clock.now += 0.1
    assert breaker.allow() is True
    assert breaker.state is BreakerState.HALF_OPEN
    # While the probe runs, everyone else still skips the store.
    assert breaker.allow() is False


def test_a_successful_probe_closes_the_breaker(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()
    assert breaker.allow()


def test_a_failed_probe_opens_it_for_another_cooldown(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 4.9
    assert breaker.allow() is False
    clock.now += 0.1
    assert breaker.allow() is True
    assert breaker.snapshot().times_opened == 2


def test_a_probe_that_never_reports_does_not_keep_the_store_shut(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.now += 5
    assert breaker.allow()  # this probe's request is cancelled: no outcome is recorded
    clock.now += 4.9
    assert breaker.allow() is False
    clock.now += 0.1
    assert breaker.allow() is True


@pytest.mark.parametrize(
    ("retry", "draw", "expected"),
    [
        pytest.param(0, 0.0, 0.0, id="no-wait-at-zero-draw"),
        pytest.param(0, 0.5, 0.05, id="first-retry-half"),
        pytest.param(1, 0.5, 0.1, id="doubles"),
        pytest.param(2, 0.999, 0.3996, id="third-retry-near-top"),
        pytest.param(10, 0.5, 0.5, id="capped"),
    ],
)
def test_full_jitter_delay_grows_exponentially_up_to_the_cap(
    retry: int, draw: float, expected: float
) -> None:
    delay = full_jitter_delay(retry, base_s=0.1, cap_s=1.0, draw=draw)
    assert delay == pytest.approx(expected)


def test_every_transition_is_reported_once(clock: Clock) -> None:
    seen: list[BreakerState] = []
    breaker = CircuitBreaker(
        failure_threshold=2, cooldown_s=5.0, clock=clock, on_change=seen.append
    )
    fail(breaker, 2)  # closed -> open
    clock.now += 5.0
    fail(breaker, 1)  # open -> half-open (the probe) -> open (it failed)
    assert breaker.allow() is False  # still open: no change to report
    clock.now += 5.0
    assert breaker.allow()  # open -> half-open
    breaker.record_success()  # half-open -> closed
    breaker.record_success()  # closed stays closed
    assert seen == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]
