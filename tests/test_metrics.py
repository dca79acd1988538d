"""GET /metrics: requests, latency, errors, store calls and pools, in Prometheus format."""

from __future__ import annotations

import httpx

from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer
from devstack.ports import free_port
from graphql_api.web.metrics import Metrics
from graphql_api.web.request_log import RequestRecord
from tests.utils.jwt_tokens import auth_env, bearer, claims, hs256
from tests.utils.metrics import scrape, value


def test_requests_errors_and_store_calls_are_counted(seeded_mariadb: MariaDBServer) -> None:
    env = mysql_env(seeded_mariadb, **auth_env())
    viewer = bearer(hs256(claims(roles=("viewer",))))
    with serve(env) as app, httpx.Client(base_url=app.base_url, headers=viewer) as http:
        for _ in range(2):
            http.post("/graphql", json={"query": 'query Page { customer(id: "C-00001") { id } }'})
        http.post("/graphql", json={"query": "query Bad { customers(first: -1) { totalCount } }"})
        http.post("/graphql", json={"query": "{ __typename }"}, headers={"Authorization": ""})
        samples, families = scrape(http)
    assert value(samples, "graphql_api_requests_total", operation="Page", outcome="ok") == 2
    assert value(samples, "graphql_api_requests_total", operation="Bad", outcome="error") == 1
    assert value(samples, "graphql_api_requests_total", operation="none", outcome="error") == 1
    assert value(samples, "graphql_api_request_duration_seconds_count", operation="Page") == 2
    assert value(samples, "graphql_api_errors_total", code="BAD_USER_INPUT") == 1
    assert value(samples, "graphql_api_errors_total", code="UNAUTHENTICATED") == 1
    calls = value(
        samples,
        "graphql_api_store_calls_total",
        store="mysql",
        call="customers_by_ids",
        outcome="ok",
    )
    assert calls == 2
    assert value(samples, "graphql_api_requests_in_flight") == 0
    assert value(samples, "graphql_api_pool_connections", pool="mysql", state="max") == 10
    assert value(samples, "graphql_api_pool_connections", pool="mysql", state="in_use") == 0
    # Made now, for the fallback chain and the outbox relay to report into.
    assert {
        "graphql_api_store_fallbacks",
        "graphql_api_breaker_state",
        "graphql_api_outbox_backlog",
    } <= families


def test_store_failures_are_counted_by_reason(mariadb: MariaDBServer) -> None:
    env = mysql_env(mariadb, RDS_PORT=str(free_port()))
    with serve(env) as app, httpx.Client(base_url=app.base_url) as http:
        http.post("/graphql", json={"query": '{ customer(id: "C-00001") { id } }'})
        samples, _ = scrape(http)
    labels = {"store": "mysql", "call": "customers_by_ids", "outcome": "connection"}
    # Every attempt the fallback chain made (three per read on a store) is a call.
    assert value(samples, "graphql_api_store_calls_total", **labels) == 3
    assert value(samples, "graphql_api_errors_total", code="STORE_UNAVAILABLE") == 1


def test_operation_names_cannot_grow_the_series_without_bound() -> None:
    metrics = Metrics()
    labels = [
        metrics.operation_label(RequestRecord("id", "POST", "/graphql", operations=[f"Op{n}"]))
        for n in range(205)
    ]
    assert labels[:200] == [f"Op{n}" for n in range(200)]
    assert labels[200:] == ["other"] * 5
    again = RequestRecord("id", "POST", "/graphql", operations=["Op7"])
    assert metrics.operation_label(again) == "Op7"
    batch = RequestRecord("id", "POST", "/graphql", operations=["A", "B"])
    assert metrics.operation_label(batch) == "batch"
