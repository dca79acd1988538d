"""A circuit breaker for one store: skip a store known to be down, probe it to come back.

CLOSED: calls go through; `failure_threshold` failures in a row open it.
OPEN: calls are refused at once until `cooldown_s` has passed.
HALF_OPEN: one probe goes through; its success closes the breaker, its failure
opens it for another cool-down. Other calls are refused while the probe runs.

Not thread-safe on purpose: each event loop (one per worker process) owns its
breakers, and asyncio runs one callback at a time.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    state: BreakerState
    consecutive_failures: int
    # How often it went from closed or half-open to open.
    times_opened: int


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int,
        cooldown_s: float,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        assert failure_threshold >= 1, "a breaker must allow at least one failure"
        assert cooldown_s > 0, "a breaker must stay open for some time"
        self._threshold = failure_threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        # Told the new state on every transition (the breaker_state gauge).
        self._on_change = on_change
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_started_at: float | None = None
        self._times_opened = 0

    @property
    def state(self) -> BreakerState:
        return self._state

    def allow(self) -> bool:
        """May a call go to the store now? In HALF_OPEN, True starts the probe."""
        now = self._clock()
        if self._state is BreakerState.CLOSED:
            return True
        if self._state is BreakerState.OPEN:
            if now - self._opened_at < self._cooldown_s:
                return False
            self._probe_started_at = now
            self._become(BreakerState.HALF_OPEN)
            return True
        # A probe that never reported (its request was cancelled) must not keep
        # the store shut forever: after a cool-down another probe may go.
        assert self._probe_started_at is not None
        if now - self._probe_started_at >= self._cooldown_s:
            self._probe_started_at = now
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._probe_started_at = None
        self._become(BreakerState.CLOSED)

    def record_failure(self) -> None:
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self._threshold:
            if self._state is not BreakerState.OPEN:
                self._times_opened += 1
            self._opened_at = self._clock()
            self._probe_started_at = None
            self._become(BreakerState.OPEN)

    def _become(self, state: BreakerState) -> None:
        changed = state is not self._state
        self._state = state
        if changed and self._on_change is not None:
            self._on_change(state)

    def snapshot(self) -> BreakerSnapshot:
        return BreakerSnapshot(
            state=self._state,
            consecutive_failures=self._failures,
            times_opened=self._times_opened,
        )
