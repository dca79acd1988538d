"""Prometheus metrics: created per app (never at import), rendered at GET /metrics.

Names (all prefixed `graphql_api_`):

| metric | type | labels | what |
|---|---|---|---|
| requests_total | counter | operation, outcome | GraphQL and REST requests (ok/error) |
| request_duration_seconds | histogram | operation | time from request to the response sent |
| requests_in_flight | gauge | | API requests being served now |
| errors_total | counter | code | errors sent, by `extensions.code` |
| store_calls_total | counter | store, call, outcome | outcome: ok or the failure reason |
| store_call_duration_seconds | histogram | store | time one store call took |
| store_fallbacks_total | counter | from_store, to_store | reads a later store served |
| degraded_requests_total | counter | | requests a fallback store served (part of), or none could |
| breaker_state | gauge | store | 0 closed, 1 half-open, 2 open; set on every transition |
| pool_connections | gauge | pool, state | in_use, idle and max connections of a pool |
| outbox_backlog | gauge | | outbox rows not yet copied to the fallback store |
| outbox_oldest_age_seconds | gauge | | age of the oldest outbox row (0 when empty) |
| feed_subscribers | gauge | | live subscriptions this process serves |
| feed_events_delivered_total | counter | | events handed to subscribers (one per subscriber) |
| feed_messages_shared_total | counter | | deliveries sent as text written for another subscriber |
| feed_poll_lag_seconds | histogram | | from an event's write to the poll that read it |
| feed_polls_total | counter | outcome | the feed's polls: ok or why it read nothing |
| feed_paused | gauge | | 1 while the feed cannot read the store |
| feed_dropped_subscribers_total | counter | reason | subscribers dropped (slow: buffer full) |
| feed_given_up_event_ids_total | counter | | missing event ids given up as rolled back |

`store` is the chain's name for a store: mysql, mysql-reader, dynamodb, memory.
Which stores served a request and whether it was degraded come from the
fallback chain's StoreUsage (the same record the response's
`extensions.stores` shows), never from a second bookkeeping.

`operation` is a REST route's operationId (`getCustomer`, ...), else the GraphQL
operation name (`anonymous` without one, `batch` for a
batched request, `none` when no operation ran, e.g. a refused token); at most
200 distinct names per process are kept, later ones count as `other`, so a
client cannot grow the series without bound.

With several worker processes (PROMETHEUS_MULTIPROC_DIR set, see cli.py) every
worker writes its samples to that directory and /metrics sums them all; the
directory comes from Settings (`serving.metrics_dir`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Generic, Literal, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response

from graphql_api.resources import PoolUsage
from graphql_api.stores.breaker import BreakerState
from graphql_api.web.request_log import RequestRecord

_NAMESPACE = "graphql_api"
# Across worker processes: in-flight and pool connections add up, the rest are the
# same value seen by every worker. "live": only workers still running count.
_GaugeMode = Literal["livesum", "livemax"]
_MAX_OPERATION_NAMES = 200
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_BREAKER_STATES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


_MetricT = TypeVar("_MetricT", Counter, Gauge, Histogram)


class _Children(Generic[_MetricT]):
    """A labelled metric's children, each looked up once.

    prometheus_client's labels() checks and copies the values and takes a lock
    on every call: 1.2 us, several times a request and twice a store call. The
    label values are bounded (operation names are capped, the rest are names
    from code), so the cache is too."""

    def __init__(self, metric: _MetricT) -> None:
        self._metric: _MetricT = metric
        self._children: dict[tuple[str, ...], _MetricT] = {}

    def __call__(self, *values: str) -> _MetricT:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class Metrics:
    """Every metric of one app, and the StoreObserver the stores report to."""

    def __init__(self, *, multiprocess_dir: Path | None = None) -> None:
        self._multiprocess_dir = multiprocess_dir
        # The *_created series double every counter for no use in dashboards.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self._operation_names: set[str] = set()
        self._pool_usage: Callable[[], Mapping[str, PoolUsage]] = dict
        self.requests = _Children(
            self._counter("requests", "API requests, GraphQL and REST.", ("operation", "outcome"))
        )
        self.request_duration = _Children(
            self._histogram("request_duration_seconds", "API request latency.", ("operation",))
        )
        self.in_flight = self._gauge(
            "requests_in_flight", "API requests being served.", (), "livesum"
        )
        self.errors = self._counter("errors", "Errors sent, by extensions.code.", ("code",))
        self.store_calls = _Children(
            self._counter(
                "store_calls",
                "Store calls by outcome (ok or the failure reason).",
                ("store", "call", "outcome"),
            )
        )
        self.store_duration = _Children(
            self._histogram("store_call_duration_seconds", "Time one store call took.", ("store",))
        )
        self.store_fallbacks = self._counter(
            "store_fallbacks",
            "Reads served by a later store in the chain.",
            ("from_store", "to_store"),
        )
        self.degraded_requests = self._counter(
            "degraded_requests",
            "GraphQL requests a fallback store served (in part), or no store could answer.",
        )
        self.breaker = self._gauge(
            "breaker_state",
            "Circuit breaker: 0 closed, 1 half-open, 2 open.",
            ("store",),
            "livemax",
        )
        self.pool_connections = _Children(
            self._gauge(
                "pool_connections",
                "Connections of a pool: in_use, idle, max.",
                ("pool", "state"),
                "livesum",
            )
        )
        fast_path = self._counter(
            "fast_path",
            "GraphQL operations by what the fast path did: answered, declined (strawberry"
            " answered from the start), handed_on (strawberry answered after its reads).",
            ("outcome",),
        )
        # Bound once: the fast path reports on every operation.
        self.fast_path_outcomes = {
            outcome: fast_path.labels(outcome) for outcome in ("answered", "declined", "handed_on")
        }
        self.admitted_requests = self._gauge(
            "admitted_requests",
            "GraphQL requests admitted (web/admission.py) and not finished.",
            (),
            "livesum",
        )
        self.shed_requests = self._counter(
            "shed_requests",
            "GraphQL requests refused at once (503 OVERLOADED), by the bound they hit.",
            ("reason",),
        )
        self.outbox_backlog_rows = self._gauge(
            "outbox_backlog", "Outbox rows not yet copied to the fallback store.", (), "livemax"
        )
        self.outbox_oldest_age = self._gauge(
            "outbox_oldest_age_seconds", "Age of the oldest outbox row (0: empty).", (), "livemax"
        )
        self._feed_metrics()

    def _feed_metrics(self) -> None:
        self.feed_subscriber_count = self._gauge(
            "feed_subscribers", "Live subscriptions this process serves.", (), "livesum"
        )
        self.feed_delivered = self._counter(
            "feed_events_delivered", "Events handed to subscribers (one per subscriber)."
        )
        self.feed_shared = self._counter(
            "feed_messages_shared",
            "Deliveries sent as the text written for an earlier subscriber of the same"
            " document, variables and id.",
        )
        self.feed_poll_lag = self._histogram(
            "feed_poll_lag_seconds", "From an event's write to the poll that read it.", ()
        )
        self.feed_polls = _Children(
            self._counter("feed_polls", "The live feed's polls by outcome.", ("outcome",))
        )
        self.feed_paused_state = self._gauge(
            "feed_paused", "1 while the live feed cannot read the store.", (), "livemax"
        )
        self.feed_dropped_subscribers = self._counter(
            "feed_dropped_subscribers", "Subscribers dropped, by reason.", ("reason",)
        )
        self.feed_given_up = self._counter(
            "feed_given_up_event_ids", "Missing event ids given up as rolled back."
        )

    # Every metric: the graphql_api_ prefix, this app's registry, the latency buckets.

    def _counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(name, documentation, labels, namespace=_NAMESPACE, registry=self.registry)

    def _histogram(self, name: str, documentation: str, labels: Sequence[str]) -> Histogram:
        return Histogram(
            name,
            documentation,
            labels,
            namespace=_NAMESPACE,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def _gauge(
        self, name: str, documentation: str, labels: Sequence[str], mode: _GaugeMode
    ) -> Gauge:
        return Gauge(
            name,
            documentation,
            labels,
            namespace=_NAMESPACE,
            registry=self.registry,
            multiprocess_mode=mode,
        )

    # -- requests (request_log.RequestObservation) ---------------------------

    def operation_label(self, record: RequestRecord) -> str:
        if record.route is not None:
            return record.route
        if not record.operations:
            return "none"
        if len(record.operations) > 1:
            return "batch"
        name = record.operations[0]
        if name in self._operation_names:
            return name
        if not _OPERATION_NAME.fullmatch(name):
            return "other"
        if len(self._operation_names) >= _MAX_OPERATION_NAMES:
            return "other"
        self._operation_names.add(name)
        return name

    def request_started(self) -> None:
        self.in_flight.inc()

    def request_finished(self, record: RequestRecord, *, seconds: float) -> None:
        self.in_flight.dec()
        operation = self.operation_label(record)
        self.requests(operation, "error" if record.failed else "ok").inc()
        self.request_duration(operation).observe(seconds)
        for code in record.error_codes:
            self.errors.labels(code).inc()
        if record.degraded:
            self.degraded_requests.inc()
        self.refresh_pools()

    # -- admission (graphql_api.web.admission.AdmissionObserver) ------------

    def admitted(self, in_flight: int) -> None:
        self.admitted_requests.set(in_flight)

    def shed(self, reason: str) -> None:
        self.shed_requests.labels(reason).inc()

    def fast_path_outcome(self, outcome: str) -> None:
        self.fast_path_outcomes[outcome].inc()

    # -- stores (graphql_api.stores.observer.StoreObserver) ------------------

    def store_call(self, *, store: str, call: str, seconds: float, failure: str | None) -> None:
        self.store_calls(store, call, failure or "ok").inc()
        self.store_duration(store).observe(seconds)

    def store_fallback(self, *, from_store: str, to_store: str) -> None:
        self.store_fallbacks.labels(from_store, to_store).inc()

    def breaker_state(self, *, store: str, state: BreakerState) -> None:
        self.breaker.labels(store).set(_BREAKER_STATES[state])

    def outbox_backlog(self, *, rows: int, oldest_age_s: float | None) -> None:
        self.outbox_backlog_rows.set(rows)
        self.outbox_oldest_age.set(oldest_age_s or 0.0)

    # -- the live feed (graphql_api.feed.hub.FeedObserver) ---------------------

    def feed_polled(self, *, outcome: str, seconds: float) -> None:
        self.feed_polls(outcome).inc()

    def feed_fanned_out(self, *, lags_s: Sequence[float], deliveries: int, given_up: int) -> None:
        for lag in lags_s:
            self.feed_poll_lag.observe(max(0.0, lag))
        self.feed_delivered.inc(deliveries)
        if given_up:
            self.feed_given_up.inc(given_up)

    def feed_message_shared(self) -> None:
        self.feed_shared.inc()

    def feed_subscribers(self, count: int) -> None:
        self.feed_subscriber_count.set(count)

    def feed_paused(self, paused: bool) -> None:
        self.feed_paused_state.set(1 if paused else 0)

    def feed_dropped(self, reason: str) -> None:
        self.feed_dropped_subscribers.labels(reason).inc()

    # -- pools (resources.Resources.pool_usage) ------------------------------

    def watch_pools(self, usage: Callable[[], Mapping[str, PoolUsage]]) -> None:
        self._pool_usage = usage

    def refresh_pools(self) -> None:
        for pool, usage in self._pool_usage().items():
            self.pool_connections(pool, "in_use").set(usage.in_use)
            self.pool_connections(pool, "idle").set(usage.idle)
            self.pool_connections(pool, "max").set(usage.max)

    # -- exposition ----------------------------------------------------------

    def render(self) -> bytes:
        self.refresh_pools()
        if self._multiprocess_dir is not None:
            # Every worker's samples, not only this worker's.
            combined = CollectorRegistry()
            directory = str(self._multiprocess_dir)
            multiprocess.MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
            return generate_latest(combined)
        return generate_latest(self.registry)


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
