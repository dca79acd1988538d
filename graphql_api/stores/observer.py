"""What stores report for metrics, without knowing how it is counted.

graphql_api.web.metrics.Metrics implements this; stores/ and sync/ depend only on
the protocol, so they import no metrics library. Each store is wrapped in an
ObservedStore (calls and failures), the fallback chain reports fallbacks, each
breaker its state changes, the outbox relay its backlog.
"""

from __future__ import annotations

from typing import Protocol

from graphql_api.stores.breaker import BreakerState


class StoreObserver(Protocol):
    def store_call(self, *, store: str, call: str, seconds: float, failure: str | None) -> None:
        """One store call ended; `failure` is StoreFailedError.reason, None on success."""

    def store_fallback(self, *, from_store: str, to_store: str) -> None:
        """A read `from_store` could not answer was served by `to_store`."""

    def breaker_state(self, *, store: str, state: BreakerState) -> None:
        """The circuit breaker in front of `store` is now in `state` (on every change)."""

    def outbox_backlog(self, *, rows: int, oldest_age_s: float | None) -> None:
        """Outbox rows not yet copied to the fallback store, and the oldest one's age."""


class NoObserver:
    """For CLI commands and tests that count nothing."""

    def store_call(self, *, store: str, call: str, seconds: float, failure: str | None) -> None:
        return

    def store_fallback(self, *, from_store: str, to_store: str) -> None:
        return

    def breaker_state(self, *, store: str, state: BreakerState) -> None:
        return

    def outbox_backlog(self, *, rows: int, oldest_age_s: float | None) -> None:
        return
