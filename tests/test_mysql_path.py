"""What only a real MariaDB can show: statement counts, row locks, transactions, outages."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack.app_server import GraphQLClient
from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer
from devstack.ports import free_port
from graphql_api.schema.pagination import CUSTOMERS, decode_cursor
from tests.utils.api import Api
from tests.utils.mariadb import StatementCounter

NESTED = """
query($n: Int) { salesReps(first: $n) { nodes { id customers(first: 20) {
  nodes { id salesRep { id } history { at } } } } } }
"""


def _add_reps_with_customers(server: MariaDBServer, *, reps: int, customers_each: int) -> None:
    """Extra reps that sort before the demo's, so a page of 50 reps holds 50 full books."""
    now = datetime(2025, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO sales_reps (sales_rep_id, first_name, last_name, email, active,"
                " created_at, updated_at)"
                " VALUES (%s, 'Extra', 'Rep', 'x@rep.example', TRUE, %s, %s)",
                [(f"AR-{n:03d}", now, now) for n in range(reps)],
            )
            rows = [
                (f"AC-{n:03d}-{m:02d}", f"Extra {n}-{m}", f"AR-{n:03d}", now, now)
                for n in range(reps)
                for m in range(customers_each)
            ]
            cursor.executemany(
                "INSERT INTO customers (customer_id, name, assigned_sales_rep_id, created_at,"
                " updated_at) VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
            cursor.executemany(
                "INSERT INTO customer_events (customer_id, kind, occurred_at) "
                "VALUES (%s, 'CREATED', %s)",
                [(row[0], now) for row in rows],
            )
    finally:
        connection.close()


def test_statement_count_does_not_grow_with_list_sizes(mysql_api: Api) -> None:
    assert mysql_api.mariadb is not None
    _add_reps_with_customers(mysql_api.mariadb, reps=50, customers_each=25)
    counter = StatementCounter(mysql_api.mariadb)
    counts = {}
    for n in (1, 10, 50):
        before = counter.total()
        data = mysql_api.data(NESTED, {"n": n})
        counts[n] = counter.total() - before
        reps = data["salesReps"]["nodes"]
        assert len(reps) == n
        assert all(len(rep["customers"]["nodes"]) == 20 for rep in reps)
        assert all(c["history"] for rep in reps for c in rep["customers"]["nodes"])
    # One statement per loader level: reps page, their customers, the customers' history.
    # salesRep { id } is served from the reps already loaded in this request.
    assert counts == {1: 3, 10: 3, 50: 3}


def test_histories_of_a_level_share_one_statement_per_page_size(mysql_api: Api) -> None:
    # Two aliases with one size share a statement; another size adds one.
    assert mysql_api.mariadb is not None
    counter = StatementCounter(mysql_api.mariadb)
    before = counter.total()
    data = mysql_api.data(
        "{ salesReps(first: 5) { nodes { customers(first: 5) { nodes {"
        " a: history(first: 2) { at } b: history(first: 2) { kind } c: history(first: 3) { at }"
        " } } } } }"
    )
    assert counter.total() - before == 4  # reps, their customers, two history sizes
    customers = [c for rep in data["salesReps"]["nodes"] for c in rep["customers"]["nodes"]]
    assert customers
    for customer in customers:
        assert len(customer["a"]) == len(customer["b"]) <= 2
        assert customer["a"] == [{"at": event["at"]} for event in customer["c"][:2]]


_DETAILS = "kind at actor note fromStatus toStatus fromSalesRep { id } toSalesRep { id }"


def test_histories_with_and_without_details_share_a_statement(mysql_api: Api) -> None:
    """A history asking for what and when only is read without the events'
    details (fewer columns); beside one that asks for them, at one size, it
    adds no statement and its events are the detailed ones' first two fields."""
    assert mysql_api.mariadb is not None
    counter = StatementCounter(mysql_api.mariadb)
    level = "{ salesReps(first: 5) { nodes { customers(first: 5) { nodes { %s } } } } }"
    before = counter.total()
    detailed = mysql_api.data(level % f"b: history(first: 3) {{ {_DETAILS} }}")
    alone = counter.total() - before
    before = counter.total()
    both = mysql_api.data(
        level % f"a: history(first: 3) {{ at kind }} b: history(first: 3) {{ {_DETAILS} }}"
    )
    assert counter.total() - before == alone
    customers = [c for rep in both["salesReps"]["nodes"] for c in rep["customers"]["nodes"]]
    assert any(customer["b"] for customer in customers)
    for customer in customers:
        assert customer["a"] == [{"at": e["at"], "kind": e["kind"]} for e in customer["b"]]
    assert [c["b"] for c in customers] == [
        c["b"] for rep in detailed["salesReps"]["nodes"] for c in rep["customers"]["nodes"]
    ]
    # The reference execution (no fast path) reads every event whole: the same answer.
    with serve(mysql_env(mysql_api.mariadb, GRAPHQL_API_FAST_PATH="false")) as app:
        reference = GraphQLClient(app.base_url)
        try:
            assert (
                reference.data(
                    level
                    % f"a: history(first: 3) {{ at kind }} b: history(first: 3) {{ {_DETAILS} }}"
                )
                == both
            )
        finally:
            reference.close()


def test_an_assignment_answers_with_the_rep_it_locked(mysql_api: Api) -> None:
    """The rep read under the write's lock is the answer's salesRep: four
    statements (customer FOR UPDATE, rep LOCK IN SHARE MODE, UPDATE, the event)."""
    assert mysql_api.mariadb is not None
    reps = mysql_api.data("{ salesReps(first: 3) { nodes { id fullName active } } }")
    target = next(rep for rep in reps["salesReps"]["nodes"][1:] if rep["active"])
    counter = StatementCounter(mysql_api.mariadb)
    before = counter.total()
    data = mysql_api.data(
        "mutation($c: ID!, $r: ID!) { assignCustomer(input: {customerId: $c, salesRepId: $r})"
        " { ... on Customer { id salesRep { id fullName } } } }",
        {"c": "C-00001", "r": target["id"]},
    )
    assert counter.total() - before == 4
    assigned = data["assignCustomer"]
    assert assigned["salesRep"] == {"id": target["id"], "fullName": target["fullName"]}


def test_a_customer_and_its_rep_are_one_statement(mysql_api: Api) -> None:
    """Look-ahead: `customer { salesRep }` joins the rep into the customer's read."""
    assert mysql_api.mariadb is not None
    counter = StatementCounter(mysql_api.mariadb)
    query = "query($id: ID!) { customer(id: $id) { id name salesRep { id fullName } } }"
    before = counter.total()
    customer = mysql_api.data(query, {"id": "C-00012"})["customer"]
    assert counter.total() - before == 1
    assert customer["id"] == "C-00012"
    assert customer["salesRep"]["id"]
    # A customer whose selection has no salesRep is read without the join: with
    # one of each in a request, two statements, and the rep still in the same.
    before = counter.total()
    both = mysql_api.data(
        '{ a: customer(id: "C-00014") { id } b: customer(id: "C-00015") { salesRep { id } } }'
    )
    assert counter.total() - before == 2
    assert both["a"]["id"] == "C-00014"
    assert both["b"]["salesRep"]["id"]


def test_two_writers_with_the_same_version_exactly_one_wins(mysql_api: Api) -> None:
    version = mysql_api.data('{ customer(id: "C-00010") { version } }')["customer"]["version"]
    reps = ["SR-001", "SR-002", "SR-003", "SR-004", "SR-005", "SR-006", "SR-007", "SR-008"]
    query = (
        "mutation($input: AssignCustomerInput!) { assignCustomer(input: $input) {"
        " __typename ... on Customer { version } ... on VersionConflictError { currentVersion } } }"
    )

    def write(rep: str) -> dict[str, Any]:
        # Each writer has its own connection, so the requests really overlap.
        client = GraphQLClient(mysql_api.client.base_url)
        try:
            variables = {
                "input": {"customerId": "C-00010", "salesRepId": rep, "expectedVersion": version}
            }
            result: dict[str, Any] = client.data(query, variables)["assignCustomer"]
            return result
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=len(reps)) as pool:
        results = list(pool.map(write, reps))
    winners = [r for r in results if r["__typename"] == "Customer"]
    losers = [r for r in results if r["__typename"] == "VersionConflictError"]
    assert len(winners) == 1, results
    assert len(losers) == len(reps) - 1
    assert winners[0]["version"] == version + 1
    assert {r["currentVersion"] for r in losers} == {version + 1}
    history = mysql_api.data('{ customer(id: "C-00010") { version history(first: 100) { kind } } }')
    assert history["customer"]["version"] == version + 1


def test_a_failed_event_write_rolls_back_the_change(mysql_api: Api) -> None:
    """The change and its event commit together: break the event insert, nothing changes."""
    assert mysql_api.mariadb is not None
    connection = mysql_api.mariadb.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TRIGGER refuse_boom BEFORE INSERT ON customer_events FOR EACH ROW"
                " IF NEW.note = 'boom' THEN"
                " SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'secret trigger detail'; END IF"
            )
        before = mysql_api.data('{ customer(id: "C-00011") { version salesRep { id } } }')
        body = mysql_api.post(
            'mutation { assignCustomer(input: {customerId: "C-00011", salesRepId: "SR-009",'
            ' note: "boom"}) { __typename } }'
        )
        [error] = body["errors"]
        assert error["extensions"]["code"] == "INTERNAL"
        assert error["message"] == "Internal error."
        assert "secret" not in json.dumps(body)
        assert "INSERT" not in json.dumps(body)
        after = mysql_api.data('{ customer(id: "C-00011") { version salesRep { id } } }')
        assert after == before
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS refuse_boom")
        connection.close()


def test_memory_and_mysql_serve_identical_data(seeded_mariadb: MariaDBServer) -> None:
    """The demo never lies: every customer, page and event, except `source`."""
    query = """query($after: String) { customers(first: 100, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id name contactPerson email phone address city state zipCode country status
              version createdAt updatedAt salesRep { id fullName email active region }
              history(first: 100) { kind at actor note fromStatus toStatus
                                    fromSalesRep { id } toSalesRep { id } } } } }"""

    def everything(env: dict[str, str]) -> list[Any]:
        pages: list[Any] = []
        with serve(env) as app:
            client = GraphQLClient(app.base_url)
            try:
                after = None
                while True:
                    page = client.data(query, {"after": after})["customers"]
                    pages.append(page)
                    if not page["pageInfo"]["hasNextPage"]:
                        return pages
                    after = page["pageInfo"]["endCursor"]
            finally:
                client.close()

    from_memory = everything({})
    from_mysql = everything(mysql_env(seeded_mariadb))
    assert len(from_memory) == 5
    assert from_mysql == from_memory


def test_memory_and_mysql_page_every_reps_customers_alike(
    seeded_mariadb: MariaDBServer,
) -> None:
    """Each rep's book in pages of three, with and without a status, until a cursor
    past the end: an empty page that still counts the whole book."""
    query = """query($after: String, $status: CustomerStatus) {
      salesReps(first: 100) { nodes { id
        customers(first: 3, after: $after, status: $status) {
          totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          nodes { id status } } } } }"""

    def pages(env: dict[str, str]) -> list[Any]:
        found: list[Any] = []
        with serve(env) as app:
            client = GraphQLClient(app.base_url)
            try:
                for status in (None, "ACTIVE"):
                    after = None
                    while True:
                        reps = client.data(query, {"after": after, "status": status})
                        found.append(reps)
                        books = [rep["customers"] for rep in reps["salesReps"]["nodes"]]
                        cursors = [book["pageInfo"]["endCursor"] for book in books]
                        if not any(cursors):
                            break
                        # The cursor of the greatest id: past the end of some books.
                        after = max(
                            (c for c in cursors if c), key=lambda c: decode_cursor(c, CUSTOMERS)
                        )
            finally:
                client.close()
        return found

    from_memory = pages({})
    past_the_end = [
        book
        for reps in from_memory
        for book in (rep["customers"] for rep in reps["salesReps"]["nodes"])
        if not book["nodes"] and book["totalCount"]
    ]
    assert past_the_end, "no page past the end of a book with customers"
    assert all(book["pageInfo"]["hasPreviousPage"] for book in past_the_end)
    assert pages(mysql_env(seeded_mariadb)) == from_memory


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param('{ customer(id: "C-00001") { id } }', id="query"),
        pytest.param(
            'mutation { unassignCustomer(input: {customerId: "C-00001"}) { __typename } }',
            id="mutation",
        ),
    ],
)
def test_unreachable_mysql_is_store_unavailable_not_a_500(operation: str) -> None:
    env = {
        "RDS_ENDPOINT": "127.0.0.1",
        "RDS_PORT": str(free_port()),
        "RDS_USERNAME": "nobody",
        "RDS_PASSWORD": "hunter2-secret",
    }
    with serve(env) as app:
        client = GraphQLClient(app.base_url)
        try:
            body = client.post(operation)
        finally:
            client.close()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "STORE_UNAVAILABLE"
    assert error["extensions"]["requestId"]
    text = json.dumps(body)
    for leak in ("hunter2", "127.0.0.1", "Traceback", "asyncmy", "SELECT", "Can't connect"):
        assert leak not in text
