"""The replaced function's four routes, over HTTP against the real app on every store.

Reads run against memory, MariaDB and DynamoDB (`read_only`); writes against
memory and MariaDB. Every answer is checked against what GraphQL says of the
same customer, so the two kinds of client cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.schema.pagination import SALES_REPS, cursor_for
from tests.utils.api import Api
from tests.utils.rest import (
    DEMO,
    INACTIVE_REP,
    REST_SOURCE,
    assign,
    ok,
    other_active_rep,
    problem,
    update,
)

CUSTOMER = DEMO.customers[0]
UNASSIGNED = next(c for c in DEMO.customers if c.sales_rep_id is None)
BUSY_REP = CUSTOMER.sales_rep_id
assert BUSY_REP is not None

GRAPHQL_CUSTOMER = """
query($id: ID!) { customer(id: $id) {
  id name contactPerson email phone address city state zipCode country status version
  createdAt updatedAt source
  salesRep { id firstName lastName email phone region active source }
  history(first: 20) {
    kind at actor note fromStatus toStatus fromSalesRep { id } toSalesRep { id }
  }
} }
"""
GRAPHQL_REP_CUSTOMER_IDS = """
query($id: ID!) { salesRep(id: $id) { customers(first: 100) { nodes { id } totalCount } } }
"""


def _graphql_customer(api: Api, customer_id: str) -> dict[str, Any]:
    customer: dict[str, Any] = api.data(GRAPHQL_CUSTOMER, {"id": customer_id})["customer"]
    return customer


def _as_rest(customer: dict[str, Any]) -> dict[str, Any]:
    """GraphQL's customer in the REST shape, written out here on purpose."""
    rest = {**customer, "source": REST_SOURCE[customer["source"]]}
    if customer["salesRep"] is not None:
        rest["salesRep"] = {
            **customer["salesRep"],
            "source": REST_SOURCE[customer["salesRep"]["source"]],
        }
    rest["history"] = [
        {
            **{k: v for k, v in event.items() if k not in ("fromSalesRep", "toSalesRep")},
            "fromSalesRepId": (event["fromSalesRep"] or {}).get("id"),
            "toSalesRepId": (event["toSalesRep"] or {}).get("id"),
        }
        for event in customer["history"]
    ]
    return rest


@pytest.mark.read_only
def test_get_customer_answers_what_graphql_answers_with_source_and_etag(api: Api) -> None:
    response = api.client.http.get(f"/customers/{CUSTOMER.id}")
    body = ok(response)
    assert body["source"] == REST_SOURCE[api.source]
    assert body["degraded"] is False
    assert body["customer"] == _as_rest(_graphql_customer(api, CUSTOMER.id))
    assert body["customer"]["salesRep"]["id"] == CUSTOMER.sales_rep_id
    assert body["customer"]["history"], "the demo customer has a history"
    assert response.headers["etag"] == f'"{CUSTOMER.version}"'


@pytest.mark.read_only
def test_get_unknown_customer_is_a_404_problem(api: Api) -> None:
    body = problem(api.client.http.get("/customers/C-NOT-THERE"), 404, "NOT_FOUND")
    assert "C-NOT-THERE" in body["detail"]


@pytest.mark.read_only
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/customers/has%20space", "customerId"),
        ("/customers/" + "C" * 21, "customerId"),
        ("/salesreps/-SR/customers", "salesRepId"),
        ("/salesreps/SR-001/customers?limit=0", "limit"),
        ("/salesreps/SR-001/customers?limit=101", "limit"),
        ("/salesreps/SR-001/customers?limit=ten", "limit"),
        ("/salesreps/SR-001/customers?limit=1&limit=2", "limit"),
        ("/salesreps/SR-001/customers?cursor=not-ours", "cursor"),
        (f"/salesreps/SR-001/customers?cursor={cursor_for(SALES_REPS, 'SR-001')}", "cursor"),
    ],
    ids=[
        "space",
        "long-id",
        "rep-id-pattern",
        "limit-0",
        "limit-over-cap",
        "limit-text",
        "limit-twice",
        "foreign-text",
        "rep-list-cursor",
    ],
)
def test_bad_path_or_query_is_a_400_naming_the_field(api: Api, path: str, field: str) -> None:
    body = problem(api.client.http.get(path), 400, "VALIDATION")
    assert body["field"] == field
    assert body["detail"].startswith(field)


@pytest.mark.read_only
def test_rep_customers_page_by_limit_and_cursor_following_link(api: Api) -> None:
    http = api.client.http
    expected = api.data(GRAPHQL_REP_CUSTOMER_IDS, {"id": BUSY_REP})["salesRep"]["customers"]
    seen: list[str] = []
    url: str | None = f"/salesreps/{BUSY_REP}/customers?limit=7"
    pages = 0
    while url is not None:
        response = http.get(url)
        body = ok(response)
        pages += 1
        assert body["salesRep"]["id"] == BUSY_REP
        assert body["source"] == body["salesRep"]["source"] == REST_SOURCE[api.source]
        assert body["totalCount"] == expected["totalCount"]
        assert len(body["customers"]) <= 7
        assert {c["source"] for c in body["customers"]} == {REST_SOURCE[api.source]}
        seen += [customer["id"] for customer in body["customers"]]
        link = response.headers.get("link")
        if body["nextCursor"] is None:
            assert link is None
            url = None
        else:
            assert link is not None
            assert link.endswith('>; rel="next"')
            url = link.removeprefix("<").split(">;")[0]
            assert body["nextCursor"] in url or "%3D" in url
    assert seen == [node["id"] for node in expected["nodes"]]
    assert pages == -(-expected["totalCount"] // 7)


@pytest.mark.read_only
def test_unknown_rep_is_a_404_problem(api: Api) -> None:
    problem(api.client.http.get("/salesreps/SR-999/customers"), 404, "NOT_FOUND")


def test_post_assignment_assigns_and_records_it(api: Api) -> None:
    target = other_active_rep(CUSTOMER.sales_rep_id)
    response = assign(api.client.http, {"customerId": CUSTOMER.id, "salesRepId": target})
    body = ok(response)
    customer = body["customer"]
    assert customer["salesRep"]["id"] == target
    assert customer["version"] == CUSTOMER.version + 1
    assert customer["history"][0]["kind"] == "ASSIGNED"
    assert customer["history"][0]["toSalesRepId"] == target
    assert body["source"] == REST_SOURCE[api.source]
    assert response.headers["etag"] == f'"{CUSTOMER.version + 1}"'
    assert customer == _as_rest(_graphql_customer(api, CUSTOMER.id))


def test_post_assignment_creates_a_missing_customer_with_the_given_fields(api: Api) -> None:
    given = {"name": "Acme Fresh", "email": "buyer@acme.example", "city": "Leeds"}
    response = assign(
        api.client.http, {"customerId": "C-NEW-1", "salesRepId": BUSY_REP, "customer": given}
    )
    body = ok(response, 201)
    assert response.headers["location"] == "/customers/C-NEW-1"
    assert response.headers["etag"] == '"1"'
    customer = body["customer"]
    assert (customer["name"], customer["email"], customer["city"]) == tuple(given.values())
    assert customer["salesRep"]["id"] == BUSY_REP
    assert [event["kind"] for event in customer["history"]] == ["CREATED"]
    assert customer == _as_rest(_graphql_customer(api, "C-NEW-1"))


def test_post_assignment_with_customer_fields_assigns_an_existing_customer(api: Api) -> None:
    target = other_active_rep(CUSTOMER.sales_rep_id)
    body = {"customerId": CUSTOMER.id, "salesRepId": target, "customer": {"name": "Ignored"}}
    customer = ok(assign(api.client.http, body))["customer"]
    assert (customer["name"], customer["salesRep"]["id"]) == (CUSTOMER.name, target)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"customerId": "C-NOPE", "salesRepId": "SR-001"}, 404, "NOT_FOUND", None),
        ({"customerId": CUSTOMER.id, "salesRepId": "SR-999"}, 404, "NOT_FOUND", None),
        ({"customerId": CUSTOMER.id, "salesRepId": INACTIVE_REP}, 400, "VALIDATION", "salesRepId"),
        ({"customerId": CUSTOMER.id}, 400, "VALIDATION", "salesRepId"),
        ({"customerId": 7, "salesRepId": "SR-001"}, 400, "VALIDATION", "customerId"),
        (
            {"customerId": CUSTOMER.id, "salesRepId": "SR-001", "expectedVersion": 0},
            400,
            "VALIDATION",
            "expectedVersion",
        ),
        (
            {"customerId": CUSTOMER.id, "salesRepId": "SR-001", "extra": 1},
            400,
            "VALIDATION",
            "extra",
        ),
        (
            {
                "customerId": "C-NEW-2",
                "salesRepId": "SR-001",
                "customer": {"name": "A", "email": "x"},
            },
            400,
            "VALIDATION",
            "customer.email",
        ),
        (
            {"customerId": "C-NEW-2", "salesRepId": "SR-001", "customer": {"city": "Leeds"}},
            400,
            "VALIDATION",
            "customer.name",
        ),
    ],
    ids=[
        "unknown-customer",
        "unknown-rep",
        "inactive-rep",
        "no-rep",
        "id-not-string",
        "version-0",
        "unknown-member",
        "bad-email",
        "no-name",
    ],
)
def test_post_assignment_refusals_are_problems(
    api: Api, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    refused = problem(assign(api.client.http, body), status, code)
    assert refused.get("field") == field
    # Nothing was written.
    assert _graphql_customer(api, CUSTOMER.id)["version"] == CUSTOMER.version


def test_post_assignment_with_a_stale_version_is_a_409_with_the_current_one(api: Api) -> None:
    body = {"customerId": CUSTOMER.id, "salesRepId": "SR-001", "expectedVersion": 1}
    refused = problem(assign(api.client.http, body), 409, "VERSION_CONFLICT")
    assert refused["currentVersion"] == CUSTOMER.version


def test_put_changes_status_and_rep_in_one_change(api: Api) -> None:
    target = other_active_rep(CUSTOMER.sales_rep_id)
    change = {"status": "ACTIVE", "salesRepId": target, "expectedVersion": CUSTOMER.version}
    response = update(api.client.http, CUSTOMER.id, change)
    customer = ok(response)["customer"]
    assert (customer["status"], customer["salesRep"]["id"]) == ("ACTIVE", target)
    assert customer["version"] == CUSTOMER.version + 1
    assert [e["kind"] for e in customer["history"][:2]] == ["ASSIGNED", "STATUS_CHANGED"]
    assert response.headers["etag"] == f'"{CUSTOMER.version + 1}"'
    assert customer == _as_rest(_graphql_customer(api, CUSTOMER.id))


@pytest.mark.parametrize(
    ("rep", "status", "code", "field"),
    [(INACTIVE_REP, 400, "VALIDATION", "salesRepId"), ("SR-999", 404, "NOT_FOUND", None)],
    ids=["inactive-rep", "unknown-rep"],
)
def test_put_writes_neither_status_nor_rep_when_the_rep_is_refused(
    api: Api, rep: str, status: int, code: str, field: str | None
) -> None:
    before = _graphql_customer(api, CUSTOMER.id)
    refused = update(api.client.http, CUSTOMER.id, {"status": "CHURNED", "salesRepId": rep})
    assert problem(refused, status, code).get("field") == field
    assert _graphql_customer(api, CUSTOMER.id) == before


def test_put_with_a_null_rep_unassigns(api: Api) -> None:
    customer = ok(update(api.client.http, CUSTOMER.id, {"salesRepId": None}))["customer"]
    assert customer["salesRep"] is None
    assert customer["history"][0]["kind"] == "UNASSIGNED"


def test_put_honours_if_match_like_expected_version(api: Api) -> None:
    http = api.client.http
    etag = http.get(f"/customers/{CUSTOMER.id}").headers["etag"]
    first = update(http, CUSTOMER.id, {"status": "CHURNED"}, headers={"If-Match": etag})
    assert ok(first)["customer"]["status"] == "CHURNED"
    stale = update(http, CUSTOMER.id, {"status": "ACTIVE"}, headers={"If-Match": etag})
    refused = problem(stale, 412, "VERSION_CONFLICT")
    assert refused["currentVersion"] == CUSTOMER.version + 1
    assert _graphql_customer(api, CUSTOMER.id)["status"] == "CHURNED"


@pytest.mark.parametrize(
    ("body", "headers", "status", "code", "field"),
    [
        ({}, {}, 400, "VALIDATION", "status"),
        ({"status": "GONE"}, {}, 400, "VALIDATION", "status"),
        ({"status": None}, {}, 400, "VALIDATION", "status"),
        ({"salesRepId": "SR-999"}, {}, 404, "NOT_FOUND", None),
        ({"status": "ACTIVE"}, {"If-Match": 'W/"3"'}, 400, "VALIDATION", "If-Match"),
        (
            {"status": "ACTIVE", "expectedVersion": 2},
            {"If-Match": '"3"'},
            400,
            "VALIDATION",
            "expectedVersion",
        ),
        ({"status": "ACTIVE", "expectedVersion": 1}, {}, 409, "VERSION_CONFLICT", None),
    ],
    ids=[
        "empty",
        "unknown-status",
        "null-status",
        "unknown-rep",
        "weak-etag",
        "version-disagrees",
        "stale-version",
    ],
)
def test_put_refusals_are_problems(
    api: Api,
    body: dict[str, Any],
    headers: dict[str, str],
    status: int,
    code: str,
    field: str | None,
) -> None:
    refused = problem(update(api.client.http, CUSTOMER.id, body, headers), status, code)
    assert refused.get("field") == field
    assert _graphql_customer(api, CUSTOMER.id)["version"] == CUSTOMER.version


def test_put_needs_an_existing_customer(api: Api) -> None:
    problem(update(api.client.http, "C-NOPE", {"status": "ACTIVE"}), 404, "NOT_FOUND")
    assert api.data(GRAPHQL_CUSTOMER, {"id": "C-NOPE"})["customer"] is None


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"status": "ACTIVE"', "application/json", 400),
        (b"[1]", "application/json", 400),
        (b'{"status": "ACTIVE"}', "text/plain", 415),
        (b'{"status": "\\ud800"}', "application/json", 400),
    ],
    ids=["broken-json", "not-an-object", "not-json", "lone-surrogate"],
)
def test_put_refuses_a_body_that_is_not_one_json_object(
    api: Api, content: bytes, content_type: str, status: int
) -> None:
    response = api.client.http.put(
        f"/customers/{CUSTOMER.id}", content=content, headers={"content-type": content_type}
    )
    problem(response, status, "BAD_REQUEST")


@pytest.mark.read_only
def test_unknown_method_and_path_are_problems_too(api: Api) -> None:
    http = api.client.http
    refused = http.delete(f"/customers/{CUSTOMER.id}")
    problem(refused, 405, "METHOD_NOT_ALLOWED")
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT"}
    problem(http.get("/customers/"), 404, "NOT_FOUND")
    # Elsewhere Starlette's plain answers stay as they were.
    assert http.get("/nowhere").headers["content-type"].startswith("text/plain")


@pytest.mark.read_only
def test_unassigned_customer_answers_without_a_rep(api: Api) -> None:
    body = ok(api.client.http.get(f"/customers/{UNASSIGNED.id}"))
    assert body["customer"]["salesRep"] is None
