"""The REST routes on the store chain: MySQL killed, DynamoDB answers the reads, writes 503.

And admission: REST and GraphQL requests share one worker's in-flight bounds.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from devstack.env import dynamodb_env, mysql_env, serve
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from tests.utils.metrics import scrape, value
from tests.utils.rest import DEMO, assign, ok, other_active_rep, problem, update

CUSTOMER = DEMO.customers[3]
# The outbox relay would write to the session's DynamoDB, which tests only read.
_NO_RELAY = {"GRAPHQL_API_OUTBOX_RELAY": "false"}


def test_mysql_down_reads_come_from_dynamodb_and_writes_answer_503(
    restorable_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    env = {**mysql_env(restorable_mariadb), **dynamodb_env(moto), **_NO_RELAY}
    change = {"customerId": CUSTOMER.id, "salesRepId": other_active_rep(CUSTOMER.sales_rep_id)}
    with serve(env) as app, httpx.Client(base_url=app.base_url, timeout=30) as http:
        assert ok(http.get(f"/customers/{CUSTOMER.id}"))["source"] == "mysql"
        restorable_mariadb.kill()

        body = ok(http.get(f"/customers/{CUSTOMER.id}"))
        assert (body["source"], body["degraded"]) == ("dynamodb", True)
        assert body["customer"]["salesRep"]["source"] == "dynamodb"
        assert body["customer"]["version"] == CUSTOMER.version
        page = ok(http.get(f"/salesreps/{CUSTOMER.sales_rep_id}/customers?limit=5"))
        assert page["source"] == "dynamodb"
        assert {customer["source"] for customer in page["customers"]} == {"dynamodb"}

        for refused in (
            assign(http, change),
            assign(http, change, {"Idempotency-Key": "during-outage"}),
            update(http, CUSTOMER.id, {"status": "ACTIVE"}),
        ):
            detail = problem(refused, 503, "STORE_UNAVAILABLE")["detail"]
            assert int(refused.headers["retry-after"]) >= 1
            assert "SELECT" not in detail
            assert "Can't connect" not in detail

        restorable_mariadb.start()
        # A 503 is not kept: the same key writes once MySQL is back (its breaker
        # lets a probe through after the cool-down: retried, as Retry-After says).
        deadline = time.monotonic() + 15
        retried = assign(http, change, {"Idempotency-Key": "during-outage"})
        while retried.status_code == 503 and time.monotonic() < deadline:
            time.sleep(float(retried.headers["retry-after"]) / 4)
            retried = assign(http, change, {"Idempotency-Key": "during-outage"})
        assert "idempotent-replayed" not in retried.headers
        assert ok(retried)["customer"]["version"] == CUSTOMER.version + 1


def test_rest_and_graphql_requests_share_the_admission_bounds(
    restorable_mariadb: MariaDBServer,
) -> None:
    """MariaDB paused holds one GraphQL request in flight; with a bound of one,
    a REST request is refused at once, as a second GraphQL request would be."""
    env = mysql_env(
        restorable_mariadb,
        GRAPHQL_API_MYSQL_QUERY_TIMEOUT="60",
        GRAPHQL_API_REQUEST_TIMEOUT="60",
        GRAPHQL_API_MAX_IN_FLIGHT="1",
    )
    query = {"query": '{ customer(id: "C-00002") { id } }'}
    with (
        serve(env) as app,
        httpx.Client(base_url=app.base_url, timeout=60) as http,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        assert http.post("/graphql", json=query).status_code == 200
        restorable_mariadb.pause()
        try:
            held = pool.submit(http.post, "/graphql", json=query)
            _wait_for_admitted(http, 1)
            refused = http.get(f"/customers/{CUSTOMER.id}")
            body = problem(refused, 503, "OVERLOADED")
            assert (body["reason"], refused.headers["retry-after"]) == ("in_flight", "1")
        finally:
            restorable_mariadb.resume()
        assert held.result().status_code == 200
        _wait_for_admitted(http, 0)
        assert ok(http.get(f"/customers/{CUSTOMER.id}"))["source"] == "mysql"


def _wait_for_admitted(http: httpx.Client, expected: float) -> None:
    """Polls the metrics until `expected` requests are admitted (a condition, not a guess)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        samples, _ = scrape(http)
        if value(samples, "graphql_api_admitted_requests") == expected:
            return
        time.sleep(0.02)
    raise AssertionError(f"admitted requests never reached {expected}")
