"""What stores report for metrics, without knowing how it is counted.

graphql_api.metrics.Metrics implements this; stores/ depends only on the
protocol, so it imports no metrics library. The fallback chain reports
fallbacks and breaker changes, the outbox relay its backlog.
"""

from __future__ import annotations

from typing import Literal, Protocol

BreakerState = Literal["closed", "half_open", "open"]


class StoreObserver(Protocol):
    def store_call(self, *, store: str, call: str, seconds: float, failure: str | None) -> None:
        """One store call ended; `failure` is StoreFailedError.reason, None on success."""

    def store_fallback(self, *, from_store: str, to_store: str) -> None:
        """A read `from_store` could not answer was served by `to_store`."""

    def breaker_state(self, *, store: str, state: BreakerState) -> None:
        """The circuit breaker in front of `store` changed state."""

    def outbox_backlog_rows(self, *, rows: int) -> None:
        """Rows in the outbox not yet copied to the fallback store."""


class NoObserver:
    """For CLI commands and tests that count nothing."""

    def store_call(self, *, store: str, call: str, seconds: float, failure: str | None) -> None:
        return

    def store_fallback(self, *, from_store: str, to_store: str) -> None:
        return

    def breaker_state(self, *, store: str, state: BreakerState) -> None:
        return

    def outbox_backlog_rows(self, *, rows: int) -> None:
        return
