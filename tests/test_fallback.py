"""The fallback chain against real processes: MariaDB killed, stalled, both stores down.

The app serves MySQL then DynamoDB (the order RDS_ENDPOINT + DYNAMODB_TABLE
imply). Assertions are on sources, `extensions`, the logs and what /metrics
shows operators (store calls by outcome, fallbacks, breaker states), never on
timings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from devstack.app_server import AppServer, GraphQLClient
from devstack.env import dynamodb_env, load_dynamodb, mysql_env
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from graphql_api.app import create_app
from graphql_api.resources import dynamodb_client
from graphql_api.settings import dynamodb_settings, load_settings
from graphql_api.stores import dynamodb_items
from graphql_api.stores.demo import demo_data
from tests.utils.metrics import Samples, scrape, value

DEMO = demo_data()
CUSTOMER = DEMO.customers[0]
READ = """
query($id: ID!) { customer(id: $id) { id source version salesRep { id source } } }
"""
ASSIGN = """
mutation($input: AssignCustomerInput!) { assignCustomer(input: $input) {
  __typename ... on Customer { id version source } } }
"""
RECOVERY_DEADLINE_S = 10.0


@dataclass
class ChainApi:
    app: Starlette
    client: GraphQLClient

    def metrics(self) -> Samples:
        samples, _ = scrape(self.client.http)
        return samples

    def read(self, customer_id: str = CUSTOMER.id) -> dict[str, Any]:
        return self.client.post(READ, {"id": customer_id})

    def read_source(self) -> str:
        body = self.read()
        assert "errors" not in body, body["errors"]
        customer = body["data"]["customer"]
        assert customer["salesRep"]["source"] == customer["source"]
        source: str = customer["source"]
        return source


@contextmanager
def serving(env: dict[str, str]) -> Iterator[ChainApi]:
    app = create_app(load_settings(env))
    with AppServer(app) as server:
        client = GraphQLClient(server.base_url)
        try:
            yield ChainApi(app, client)
        finally:
            client.close()


def store_calls(
    samples: Samples, store: str, *, outcome: str | None = None, call: str | None = None
) -> float:
    """Attempts on `store` (readiness pings aside), by outcome and call if given."""
    total = 0.0
    for (name, labels), count in samples.items():
        found = dict(labels)
        if (
            name == "graphql_api_store_calls_total"
            and found["store"] == store
            and found["call"] != "ping"
            and outcome in (None, found["outcome"])
            and call in (None, found["call"])
        ):
            total += count
    return total


def fallbacks(samples: Samples) -> float:
    return value(
        samples, "graphql_api_store_fallbacks_total", from_store="mysql", to_store="dynamodb"
    )


def breaker_state(samples: Samples, store: str) -> float:
    """0 closed, 1 half-open, 2 open."""
    return value(samples, "graphql_api_breaker_state", store=store)


def both_stores_env(mariadb: MariaDBServer, moto: MotoServer, **extra: str) -> dict[str, str]:
    return {**mysql_env(mariadb), **dynamodb_env(moto), **extra}


def read_until_breaker_opens(api: ChainApi, store: str = "mysql", reads: int = 10) -> int:
    """How many reads it took; each was served wholly by DynamoDB."""
    for read in range(1, reads + 1):
        assert api.read_source() == "DYNAMODB"
        if breaker_state(api.metrics(), store) == 2:
            return read
    pytest.fail(f"the {store} breaker did not open within {reads} reads")


def wait_for_mysql_reads(api: ChainApi) -> float:
    """Seconds until reads come wholly from MySQL again; fails past the deadline.

    The breaker's cool-down can end between a read's two batches (the customer,
    then its rep): that read has its customer from DynamoDB and its rep from
    MySQL, which is right, and says so with `degraded`. It is not recovery yet.
    """
    started = time.monotonic()
    while time.monotonic() - started < RECOVERY_DEADLINE_S:
        body = api.read()
        assert "errors" not in body, body["errors"]
        customer = body["data"]["customer"]
        sources = {customer["source"], customer["salesRep"]["source"]}
        if sources == {"MYSQL"}:
            return time.monotonic() - started
        assert body["extensions"]["stores"]["degraded"] is True
        time.sleep(0.1)  # poll interval; the deadline bounds the wait
    pytest.fail(f"reads did not come back to MySQL within {RECOVERY_DEADLINE_S} s")


def test_reads_fall_back_to_dynamodb_while_mariadb_is_down_and_come_back(
    restorable_mariadb: MariaDBServer, moto: MotoServer, caplog: pytest.LogCaptureFixture
) -> None:
    with serving(both_stores_env(restorable_mariadb, moto)) as api:
        body = api.read()
        assert body["data"]["customer"]["source"] == "MYSQL"
        assert body["extensions"]["stores"] == {"used": ["MYSQL"], "degraded": False}

        restorable_mariadb.kill()
        with caplog.at_level(logging.INFO, logger="graphql_api"):
            body = api.read()
        customer = body["data"]["customer"]
        assert (customer["id"], customer["version"]) == (CUSTOMER.id, CUSTOMER.version)
        assert customer["source"] == customer["salesRep"]["source"] == "DYNAMODB"
        assert body["extensions"]["stores"] == {"used": ["DYNAMODB"], "degraded": True}
        messages = [record.getMessage() for record in caplog.records]
        assert any(
            "served by fallback store dynamodb after mysql: connection" in m for m in messages
        )
        assert not any("SELECT" in m or "Can't connect" in m for m in messages), messages

        read_until_breaker_opens(api)
        before = api.metrics()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="graphql_api"):
            for _ in range(5):
                assert api.read_source() == "DYNAMODB"
        after = api.metrics()
        # With the breaker open MySQL is not tried at all: no attempts, so no retries.
        assert store_calls(after, "mysql") == store_calls(before, "mysql")
        # Each read loads the customer with its rep: one batch per read, skipped
        # by the open breaker and served by DynamoDB.
        skipped = [
            m
            for m in caplog.messages
            if m.endswith("by fallback store dynamodb after mysql: breaker-open")
        ]
        assert len(skipped) == 5, caplog.messages
        assert fallbacks(after) == fallbacks(before) + 5

        restorable_mariadb.start()
        wait_for_mysql_reads(api)
        assert breaker_state(api.metrics(), "mysql") == 0
        assert api.read()["extensions"]["stores"] == {"used": ["MYSQL"], "degraded": False}


def test_fallbacks_breaker_states_and_readiness_during_an_outage(
    restorable_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    with serving(both_stores_env(restorable_mariadb, moto)) as api:
        http = api.client.http
        assert api.read_source() == "MYSQL"
        before, _ = scrape(http)
        restorable_mariadb.kill()
        reads = read_until_breaker_opens(api)
        during, _ = scrape(http)
        ready_during = http.get("/readyz")
        restorable_mariadb.start()
        wait_for_mysql_reads(api)
        after, _ = scrape(http)
    for store in ("mysql", "dynamodb"):
        assert value(before, "graphql_api_breaker_state", store=store) == 0
    assert value(during, "graphql_api_breaker_state", store="mysql") == 2
    assert value(during, "graphql_api_breaker_state", store="dynamodb") == 0
    assert value(after, "graphql_api_breaker_state", store="mysql") == 0
    served_elsewhere = value(
        during, "graphql_api_store_fallbacks_total", from_store="mysql", to_store="dynamodb"
    )
    # Every read since the kill fell back once: the customer with its rep.
    assert served_elsewhere == reads > 0
    assert value(before, "graphql_api_degraded_requests_total") == 0
    assert value(during, "graphql_api_degraded_requests_total") >= 1
    labels = {"call": "customers_and_reps_by_ids"}
    calls = "graphql_api_store_calls_total"
    assert value(during, calls, store="mysql", outcome="connection", **labels) >= 1
    assert value(during, calls, store="dynamodb", outcome="ok", **labels) >= 1
    # The fallback still answers reads: ready, with the primary reported down.
    assert ready_during.status_code == 200
    assert ready_during.json()["stores"] == {
        "mysql": {"ready": False, "reason": "connection"},
        "dynamodb": {"ready": True},
    }


def test_a_failing_store_gets_at_most_three_attempts_per_read(
    restorable_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    env = both_stores_env(restorable_mariadb, moto, GRAPHQL_API_BREAKER_FAILURES="100")
    with serving(env) as api:
        assert api.read_source() == "MYSQL"
        restorable_mariadb.kill()
        before = api.metrics()
        assert api.read_source() == "DYNAMODB"
        after = api.metrics()
        # One batch (the customer with its rep), three attempts (two retries),
        # every one failing, then the batch served by the fallback.
        call = "customers_and_reps_by_ids"
        failed = store_calls(after, "mysql", outcome="connection", call=call)
        assert failed - store_calls(before, "mysql", outcome="connection", call=call) == 3
        assert store_calls(after, "mysql") - store_calls(before, "mysql") == 3
        assert fallbacks(after) - fallbacks(before) == 1


def test_a_stalled_mariadb_read_falls_back_after_one_query_timeout(
    restorable_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    env = both_stores_env(
        restorable_mariadb,
        moto,
        GRAPHQL_API_MYSQL_QUERY_TIMEOUT="1",
        GRAPHQL_API_BREAKER_FAILURES="100",
    )
    with serving(env) as api:
        assert api.read_source() == "MYSQL"
        restorable_mariadb.pause()
        before = api.metrics()
        assert api.read_source() == "DYNAMODB"
        after = api.metrics()
        # One attempt for the one batch (the customer with its rep), ended by
        # the query timeout, not retried: a stall costs one timeout, not three.
        call = "customers_and_reps_by_ids"
        timed_out = store_calls(after, "mysql", outcome="timeout", call=call)
        assert timed_out - store_calls(before, "mysql", outcome="timeout", call=call) == 1
        assert store_calls(after, "mysql") - store_calls(before, "mysql") == 1
        restorable_mariadb.resume()
        wait_for_mysql_reads(api)


def test_a_request_never_outlives_the_request_timeout(restorable_mariadb: MariaDBServer) -> None:
    env = {
        **mysql_env(restorable_mariadb),
        "GRAPHQL_API_MYSQL_QUERY_TIMEOUT": "30",
        "GRAPHQL_API_REQUEST_TIMEOUT": "1",
    }
    with serving(env) as api:
        assert api.read_source() == "MYSQL"
        restorable_mariadb.pause()
        try:
            body = api.read()
        finally:
            # The app's shutdown waits for the query still on the paused server: resumed,
            # it ends now instead of at the 30 s query timeout.
            restorable_mariadb.resume()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert body["data"] is None


def test_an_unknown_database_is_an_outage_and_reads_fall_back(
    mariadb: MariaDBServer, moto: MotoServer
) -> None:
    # MySQL error 1049: the server answers, but no request can be served from it.
    env = both_stores_env(mariadb, moto, RDS_DATABASE="no_such_database")
    with serving(env) as api:
        body = api.read()
        samples = api.metrics()
    assert "errors" not in body, body["errors"]
    assert body["data"]["customer"]["source"] == "DYNAMODB"
    assert body["extensions"]["stores"] == {"used": ["DYNAMODB"], "degraded": True}
    assert store_calls(samples, "mysql", outcome="connection") >= 1


@pytest.fixture
def doomed_moto(tmp_path: Path) -> Iterator[MotoServer]:
    """A moto of this test's own, loaded with the demo rows, for the test to kill."""
    with MotoServer(log_path=tmp_path / "moto.log") as server:
        load_dynamodb(server)
        yield server


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(READ, id="customer"),
        pytest.param("{ customers(first: 5) { nodes { id source } } }", id="customer-list"),
        pytest.param(
            '{ salesRep(id: "SR-001") { customers { nodes { id source } } } }', id="rep-book"
        ),
    ],
)
def test_both_stores_down_is_store_unavailable_with_no_data(
    restorable_mariadb: MariaDBServer, doomed_moto: MotoServer, query: str
) -> None:
    with serving(both_stores_env(restorable_mariadb, doomed_moto)) as api:
        assert api.read_source() == "MYSQL"
        restorable_mariadb.kill()
        assert api.read_source() == "DYNAMODB"
        doomed_moto.kill()
        body = api.client.post(query, {"id": CUSTOMER.id})  # asserts HTTP 200
        samples = api.metrics()
    # No store could answer: both were tried and failed.
    assert value(samples, "graphql_api_errors_total", code="STORE_UNAVAILABLE") >= 1
    assert store_calls(samples, "dynamodb") > store_calls(samples, "dynamodb", outcome="ok")
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"STORE_UNAVAILABLE"}
    assert body["data"] in (None, {"customer": None}, {"salesRep": None})
    assert "MEMORY" not in str(body)
    assert body["extensions"]["stores"] == {"used": [], "degraded": True}


async def _dynamodb_customer(moto: MotoServer, customer_id: str) -> dict[str, Any]:
    settings = dynamodb_settings(dynamodb_env(moto))
    async with dynamodb_client(settings) as client:
        response = await client.get_item(
            TableName=settings.table, Key=dynamodb_items.customer_key(customer_id)
        )
    return dict(response["Item"])


def _mysql_customer(server: MariaDBServer, customer_id: str) -> tuple[Any, ...]:
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.assigned_sales_rep_id, c.version,"
                " (SELECT COUNT(*) FROM customer_events e WHERE e.customer_id = c.customer_id)"
                " FROM customers c WHERE c.customer_id = %s",
                [customer_id],
            )
            row: tuple[Any, ...] | None = cursor.fetchone()
    finally:
        connection.close()
    assert row is not None, customer_id
    return row


def test_a_mutation_while_mariadb_is_down_fails_and_leaves_no_trace(
    restorable_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    other_rep = next(r.id for r in DEMO.sales_reps if r.active and r.id != CUSTOMER.sales_rep_id)
    events = sum(1 for event in DEMO.events if event.customer_id == CUSTOMER.id)
    assign = {"input": {"customerId": CUSTOMER.id, "salesRepId": other_rep}}
    with serving(both_stores_env(restorable_mariadb, moto)) as api:
        assert api.read_source() == "MYSQL"
        restorable_mariadb.kill()

        body = api.client.post(ASSIGN, assign)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["STORE_UNAVAILABLE"]

        # Once the breaker knows MySQL is down, a mutation fails without trying it.
        read_until_breaker_opens(api)
        attempts = store_calls(api.metrics(), "mysql")
        body = api.client.post(ASSIGN, assign)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["STORE_UNAVAILABLE"]
        samples = api.metrics()
        assert store_calls(samples, "mysql") == attempts
        # Both writes refused: the first after its one failed try, the second untried.
        assert store_calls(samples, "mysql", call="assign_customer") == 1
        assert store_calls(samples, "mysql", call="assign_customer", outcome="connection") == 1

        # DynamoDB, still serving reads, was not written either.
        data = api.client.data(READ, {"id": CUSTOMER.id})["customer"]
        assert (data["source"], data["version"]) == ("DYNAMODB", CUSTOMER.version)
        assert data["salesRep"]["id"] == CUSTOMER.sales_rep_id

        restorable_mariadb.start()
        wait_for_mysql_reads(api)
        data = api.client.data(READ, {"id": CUSTOMER.id})["customer"]
        assert (data["version"], data["salesRep"]["id"]) == (
            CUSTOMER.version,
            CUSTOMER.sales_rep_id,
        )
    assert _mysql_customer(restorable_mariadb, CUSTOMER.id) == (
        CUSTOMER.sales_rep_id,
        CUSTOMER.version,
        events,
    )
    item = asyncio.run(_dynamodb_customer(moto, CUSTOMER.id))
    assert item["sales_rep_id"] == {"S": CUSTOMER.sales_rep_id}
    assert item["version"] == {"N": str(CUSTOMER.version)}


def test_queries_use_the_reader_endpoint_and_mutations_the_writer(
    seeded_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    # Nothing listens on 127.0.0.2 (MariaDB binds 127.0.0.1 only): the reader is down,
    # the writer is up, so reads fall back while writes succeed.
    # No relay: the session's DynamoDB is read-only for tests (conftest.py), and this
    # write would reach it; other modules on this worker read the demo rows there.
    env = both_stores_env(
        seeded_mariadb, moto, RDS_READER_ENDPOINT="127.0.0.2", GRAPHQL_API_OUTBOX_RELAY="false"
    )
    other_rep = next(r.id for r in DEMO.sales_reps if r.active and r.id != CUSTOMER.sales_rep_id)
    with serving(env) as api:
        assert api.read_source() == "DYNAMODB"
        assert store_calls(api.metrics(), "mysql-reader", outcome="connection") >= 1
        body = api.client.data(
            ASSIGN, {"input": {"customerId": CUSTOMER.id, "salesRepId": other_rep}}
        )
        assert body["assignCustomer"]["source"] == "MYSQL"
        # The writer served this one write and nothing else.
        assert store_calls(api.metrics(), "mysql") == 1
        assert store_calls(api.metrics(), "mysql", call="assign_customer", outcome="ok") == 1
        ready = api.client.http.get("/readyz")
        samples, _ = scrape(api.client.http)
    # Every configured store is pinged; the writer, which reads never reach, is
    # reported but does not make the instance ready: the fallback does.
    assert ready.status_code == 200
    assert ready.json()["stores"] == {
        "mysql-reader": {"ready": False, "reason": "connection"},
        "dynamodb": {"ready": True},
        "mysql": {"ready": True, "writes_only": True},
    }
    for pool in ("mysql", "mysql-reader"):
        assert value(samples, "graphql_api_pool_connections", pool=pool, state="max") == 10
    assert _mysql_customer(seeded_mariadb, CUSTOMER.id)[:2] == (other_rep, CUSTOMER.version + 1)
