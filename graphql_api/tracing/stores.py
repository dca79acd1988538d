"""A span per store call, fallbacks and breaker transitions as events: a StoreObserver.

It wraps the app's observer (the metrics), so the stores and the chain change
nothing: each call is already reported when it ends, with how long it took,
from within the request's task, where the operation's span is the current one.
Spans carry the store kind (`db.system`), the call's name (`db.operation`) and
the failure's category; never ids, values or driver messages.
"""

from __future__ import annotations

import time

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from graphql_api.stores.breaker import BreakerState
from graphql_api.stores.observer import StoreObserver
from graphql_api.tracing.operations import current_operation_context

# The chain's store names (resources.py) -> OpenTelemetry's db.system.
_DB_SYSTEM = {"mysql": "mysql", "mysql-reader": "mysql", "dynamodb": "dynamodb"}


class TracingObserver:
    def __init__(self, inner: StoreObserver, *, tracer: Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    def store_call(self, *, store: str, call: str, seconds: float, failure: str | None) -> None:
        self._inner.store_call(store=store, call=call, seconds=seconds, failure=failure)
        ended = time.time_ns()
        system = _DB_SYSTEM.get(store, store)
        span = self._tracer.start_span(
            f"{call} {system}",
            context=current_operation_context(),
            kind=SpanKind.CLIENT,
            attributes={"db.system": system, "db.operation": call, "graphql_api.store": store},
            start_time=ended - int(seconds * 1e9),
        )
        if failure is not None:
            span.set_attribute("graphql_api.store.failure", failure)
            span.set_status(Status(StatusCode.ERROR, failure))
        span.end(end_time=ended)

    def store_fallback(self, *, from_store: str, to_store: str) -> None:
        self._inner.store_fallback(from_store=from_store, to_store=to_store)
        _current_span().add_event(
            "store.fallback",
            {"graphql_api.from_store": from_store, "graphql_api.to_store": to_store},
        )

    def breaker_state(self, *, store: str, state: BreakerState) -> None:
        self._inner.breaker_state(store=store, state=state)
        _current_span().add_event(
            "breaker.transition", {"graphql_api.store": store, "graphql_api.state": state.value}
        )

    def outbox_backlog(self, *, rows: int, oldest_age_s: float | None) -> None:
        self._inner.outbox_backlog(rows=rows, oldest_age_s=oldest_age_s)


def _current_span() -> trace.Span:
    """The operation's span (outside a request a non-recording one, which ignores events)."""
    return trace.get_current_span(current_operation_context())
