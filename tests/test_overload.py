"""Overload is shed, never blamed on a store: admission bounds and the pool wait.

Real server processes over the session's MariaDB, callers told apart by their
tokens' subjects, as an attacker with a valid token and a bystander would be.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx

from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer
from tests.utils.jwt_tokens import auth_env, bearer, claims, hs256
from tests.utils.metrics import Samples, scrape, value

CHEAP = '{ customer(id: "C-00002") { id } }'
# Within every limit, yet it keeps a pooled connection busy: 20 reps x 20 customers x 5 events.
HEAVY = (
    "{ salesReps(first: 20) { nodes { customers(first: 20) { nodes {"
    " id name history(first: 5) { kind at } } } } } }"
)

# Requests held in flight by a paused MariaDB must outlast the test, not time out.
_HELD = {"GRAPHQL_API_MYSQL_QUERY_TIMEOUT": "60", "GRAPHQL_API_REQUEST_TIMEOUT": "60"}


def _caller(subject: str) -> dict[str, str]:
    return bearer(hs256(claims(subject=subject, roles=("viewer",))))


@contextmanager
def _client(base_url: str, subject: str) -> Iterator[Callable[[str], httpx.Response]]:
    with httpx.Client(base_url=base_url, headers=_caller(subject), timeout=60) as http:
        yield lambda query: http.post("/graphql", json={"query": query})


def _wait_for(base_url: str, name: str, expected: float, **labels: str) -> None:
    """Polls the metrics until `name` reads `expected` (a condition, not a guess)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if value(_metrics(base_url), name, **labels) == expected:
            return
        time.sleep(0.02)
    raise AssertionError(f"{name} never reached {expected}")


def _metrics(base_url: str) -> Samples:
    with httpx.Client(base_url=base_url) as http:
        samples, _ = scrape(http)
    return samples


def _refusal(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    [error] = response.json()["errors"]
    extensions: dict[str, Any] = error["extensions"]
    assert extensions["code"] == "OVERLOADED"
    return extensions


def test_admission_refuses_past_a_callers_share_and_past_the_total(
    restorable_mariadb: MariaDBServer,
) -> None:
    """MariaDB paused holds admitted requests in flight: A takes its share of
    two, B the last slot of three; A's third and C's first are refused at once."""
    env = mysql_env(
        restorable_mariadb,
        **auth_env(),
        **_HELD,
        GRAPHQL_API_MAX_IN_FLIGHT="3",
        GRAPHQL_API_MAX_IN_FLIGHT_PER_CALLER="2",
    )
    with (
        serve(env) as app,
        _client(app.base_url, "caller-a") as a,
        _client(app.base_url, "caller-b") as b,
        _client(app.base_url, "caller-c") as c,
        ThreadPoolExecutor(max_workers=3) as pool,
    ):
        assert a(CHEAP).status_code == 200  # a pooled connection exists
        restorable_mariadb.pause()
        try:
            held = [pool.submit(a, CHEAP), pool.submit(a, CHEAP)]
            _wait_for(app.base_url, "graphql_api_admitted_requests", 2)
            assert _refusal(a(CHEAP))["reason"] == "caller_share"
            held.append(pool.submit(b, CHEAP))
            _wait_for(app.base_url, "graphql_api_admitted_requests", 3)
            assert _refusal(c(CHEAP))["reason"] == "in_flight"
        finally:
            restorable_mariadb.resume()
        for answer in held:
            assert answer.result().json()["data"] == {"customer": {"id": "C-00002"}}
        _wait_for(app.base_url, "graphql_api_admitted_requests", 0)
        samples = _metrics(app.base_url)
    assert value(samples, "graphql_api_shed_requests_total", reason="caller_share") == 1
    assert value(samples, "graphql_api_shed_requests_total", reason="in_flight") == 1


def test_two_hundred_heavy_queries_are_overload_not_an_outage(
    seeded_mariadb: MariaDBServer,
) -> None:
    """One caller sends 200 heavy queries at once through a pool of two connections;
    another asks cheap ones meanwhile. Nobody is told the store is unavailable,
    the breaker stays closed, and the bystander is served. (Before: the wait for
    a connection ran into the query timeout, a store failure; the breaker opened.)"""
    env = mysql_env(
        seeded_mariadb,
        **auth_env(),
        GRAPHQL_API_MYSQL_POOL_SIZE="2",
        GRAPHQL_API_MYSQL_POOL_WAIT="0.2",
        # Each statement takes milliseconds; waiting behind 200 takes longer.
        GRAPHQL_API_MYSQL_QUERY_TIMEOUT="1",
    )
    with (
        serve(env) as app,
        _client(app.base_url, "attacker") as attacker,
        _client(app.base_url, "bystander") as bystander,
        ThreadPoolExecutor(max_workers=50) as pool,
    ):
        heavy = [pool.submit(attacker, HEAVY) for _ in range(200)]
        cheap = [bystander(CHEAP) for _ in range(20)]
        answers = [answer.result() for answer in heavy] + cheap
        samples = _metrics(app.base_url)
    codes = [
        error["extensions"]["code"]
        for answer in answers
        for error in answer.json().get("errors", [])
    ]
    assert "STORE_UNAVAILABLE" not in codes
    assert set(codes) <= {"OVERLOADED"}
    assert value(samples, "graphql_api_breaker_state", store="mysql") == 0
    served = [answer for answer in cheap if answer.json().get("data")]
    assert len(served) >= 16, [answer.text for answer in cheap]


def test_readiness_with_every_connection_busy_is_ready_and_says_busy(
    restorable_mariadb: MariaDBServer,
) -> None:
    """The one pooled connection held by a request (MariaDB paused keeps it busy):
    the readiness ping waits its turn, runs out, and reports busy, not unready,
    so a balancer does not move a busy replica's traffic onto busy others."""
    env = mysql_env(
        restorable_mariadb,
        **auth_env(),
        **_HELD,
        GRAPHQL_API_MYSQL_POOL_SIZE="1",
        GRAPHQL_API_MYSQL_POOL_WAIT="0.2",
    )
    with (
        serve(env) as app,
        _client(app.base_url, "caller-a") as a,
        ThreadPoolExecutor(max_workers=1) as pool,
        httpx.Client(base_url=app.base_url) as http,
    ):
        assert a(CHEAP).status_code == 200
        restorable_mariadb.pause()
        try:
            held = pool.submit(a, CHEAP)
            # The request holds the connection (not merely admitted) before the ping.
            _wait_for(app.base_url, "graphql_api_pool_connections", 1, pool="mysql", state="in_use")
            ready = http.get("/readyz")
        finally:
            restorable_mariadb.resume()
        assert held.result().json()["data"] == {"customer": {"id": "C-00002"}}
    assert ready.status_code == 200
    assert ready.json()["stores"] == {"mysql": {"ready": True, "busy": True}}
