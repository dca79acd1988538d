"""Reads, against every store: fields, sources, pagination, filters, errors."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.schema.pagination import CUSTOMERS, SALES_REPS, cursor_for
from graphql_api.stores.demo import demo_data
from graphql_api.stores.records import CustomerStatus
from tests.utils.api import Api

# Reads only, so DynamoDB (a read-only store here) answers them too.
pytestmark = pytest.mark.read_only

DEMO = demo_data()
CUSTOMER_FIELDS = """
  id name contactPerson email phone address city state zipCode country status version
  createdAt updatedAt source
"""


def _customers_of(rep_id: str, status: CustomerStatus | None = None) -> list[str]:
    return sorted(
        c.id
        for c in DEMO.customers
        if c.sales_rep_id == rep_id and (status is None or c.status is status)
    )


def test_customer_returns_every_field_and_its_rep(api: Api) -> None:
    expected = DEMO.customers[0]
    data = api.data(
        f"query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_FIELDS}"
        " salesRep { id firstName lastName fullName email phone region active source } } }",
        {"id": expected.id},
    )
    customer = data["customer"]
    assert customer["id"] == expected.id
    assert customer["name"] == expected.name
    assert customer["zipCode"] == expected.zip_code
    assert customer["status"] == expected.status.value
    assert customer["version"] == expected.version
    assert customer["createdAt"] == expected.created_at.isoformat()
    assert customer["source"] == api.source
    rep = next(r for r in DEMO.sales_reps if r.id == expected.sales_rep_id)
    assert customer["salesRep"] == {
        "id": rep.id,
        "firstName": rep.first_name,
        "lastName": rep.last_name,
        "fullName": f"{rep.first_name} {rep.last_name}",
        "email": rep.email,
        "phone": rep.phone,
        "region": rep.region,
        "active": rep.active,
        "source": api.source,
    }


def test_unknown_customer_is_null(api: Api) -> None:
    assert api.data('{ customer(id: "C-99999") { id } }') == {"customer": None}


def test_unassigned_customer_has_no_rep(api: Api) -> None:
    unassigned = next(c for c in DEMO.customers if c.sales_rep_id is None)
    data = api.data(f'{{ customer(id: "{unassigned.id}") {{ salesRep {{ id }} }} }}')
    assert data == {"customer": {"salesRep": None}}


@pytest.mark.parametrize(
    ("customer_id", "message_part"),
    [
        pytest.param("C" * 21, "limit is 20", id="too-long"),
        pytest.param("", "must not be empty", id="empty"),
        pytest.param("C 1;DROP--", "may hold only", id="malformed"),
    ],
)
def test_malformed_id_is_a_bad_user_input_error(
    api: Api, customer_id: str, message_part: str
) -> None:
    body = api.post("query($id: ID!) { customer(id: $id) { id } }", {"id": customer_id})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}
    assert message_part in error["message"]


def _walk_rep_customers(api: Api, rep_id: str, page_size: int, status: str | None) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        data = api.data(
            "query($id: ID!, $first: Int, $after: String, $status: CustomerStatus) {"
            " salesRep(id: $id) { customers(first: $first, after: $after, status: $status) {"
            " totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
            " edges { cursor node { id } } nodes { id source } } } }",
            {"id": rep_id, "first": page_size, "after": after, "status": status},
        )
        page = data["salesRep"]["customers"]
        assert [edge["node"]["id"] for edge in page["edges"]] == [n["id"] for n in page["nodes"]]
        assert {node["source"] for node in page["nodes"]} <= {api.source}
        assert len(page["nodes"]) <= page_size
        page_info = page["pageInfo"]
        assert page_info["hasPreviousPage"] is (after is not None)
        if page["nodes"]:
            assert page_info["startCursor"] == page["edges"][0]["cursor"]
            assert page_info["endCursor"] == page["edges"][-1]["cursor"]
        seen.extend(node["id"] for node in page["nodes"])
        expected_total = len(_customers_of(rep_id, CustomerStatus(status) if status else None))
        assert page["totalCount"] == expected_total
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("page_size", [1, 7, 100], ids=["one", "seven", "max"])
def test_rep_customers_paginate_in_id_order_without_gaps(api: Api, page_size: int) -> None:
    assert _walk_rep_customers(api, "SR-001", page_size, None) == _customers_of("SR-001")


def test_rep_customers_filter_by_status(api: Api) -> None:
    walked = _walk_rep_customers(api, "SR-002", 3, "ACTIVE")
    assert walked == _customers_of("SR-002", CustomerStatus.ACTIVE)
    assert walked


def test_customers_of_many_reps_in_one_query(api: Api) -> None:
    data = api.data(
        "{ salesReps(first: 20) { totalCount nodes { id customers(first: 3) {"
        " totalCount nodes { id salesRep { id } } } } } }"
    )
    reps = data["salesReps"]
    assert reps["totalCount"] == len(DEMO.sales_reps)
    for rep in reps["nodes"]:
        expected = _customers_of(rep["id"])
        assert [n["id"] for n in rep["customers"]["nodes"]] == expected[:3]
        assert rep["customers"]["totalCount"] == len(expected)
        assert all(n["salesRep"]["id"] == rep["id"] for n in rep["customers"]["nodes"])


def test_sales_reps_paginate(api: Api) -> None:
    first = api.data("{ salesReps(first: 15) { nodes { id } pageInfo { hasNextPage endCursor } } }")
    page = first["salesReps"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = api.data(
        "query($after: String) { salesReps(first: 15, after: $after) {"
        " nodes { id } pageInfo { hasNextPage endCursor } totalCount } }",
        {"after": page["pageInfo"]["endCursor"]},
    )["salesReps"]
    ids = [n["id"] for n in page["nodes"]] + [n["id"] for n in rest["nodes"]]
    assert ids == sorted(r.id for r in DEMO.sales_reps)
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["totalCount"] == len(DEMO.sales_reps)


def test_a_page_past_the_end_is_empty_and_still_counts(api: Api) -> None:
    last_cursor = api.data("{ salesReps(first: 100) { pageInfo { endCursor } } }")["salesReps"][
        "pageInfo"
    ]["endCursor"]
    page = api.data(
        "query($after: String) { salesReps(after: $after) {"
        " nodes { id } totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
        " } }",
        {"after": last_cursor},
    )["salesReps"]
    assert page == {
        "nodes": [],
        "totalCount": len(DEMO.sales_reps),
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": True,
            "startCursor": None,
            "endCursor": None,
        },
    }


def _search(api: Api, where: dict[str, Any]) -> tuple[list[str], int]:
    ids: list[str] = []
    after = None
    while True:
        page = api.data(
            "query($filter: CustomerFilter, $after: String) {"
            " customers(filter: $filter, first: 100, after: $after) {"
            " totalCount nodes { id } pageInfo { hasNextPage endCursor } } }",
            {"filter": where, "after": after},
        )["customers"]
        ids.extend(node["id"] for node in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return ids, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize(
    ("where", "predicate"),
    [
        pytest.param({}, lambda c: True, id="everyone"),
        pytest.param({"status": "CHURNED"}, lambda c: c.status.value == "CHURNED", id="status"),
        pytest.param({"salesRepId": "SR-004"}, lambda c: c.sales_rep_id == "SR-004", id="rep"),
        pytest.param({"unassigned": True}, lambda c: c.sales_rep_id is None, id="unassigned"),
        pytest.param({"unassigned": False}, lambda c: c.sales_rep_id is not None, id="assigned"),
        pytest.param(
            {"country": "US", "state": "CA", "city": "Fresno"},
            lambda c: (c.country, c.state, c.city) == ("US", "CA", "Fresno"),
            id="place",
        ),
        pytest.param(
            {"nameContains": "hArBoR"}, lambda c: "harbor" in c.name.lower(), id="name-any-case"
        ),
        pytest.param({"nameContains": "%"}, lambda c: "%" in c.name, id="like-wildcard-literal"),
        pytest.param(
            {"status": "ACTIVE", "country": "DE"},
            lambda c: c.status.value == "ACTIVE" and c.country == "DE",
            id="combined",
        ),
    ],
)
def test_customers_filter(api: Api, where: dict[str, Any], predicate: Any) -> None:
    ids, total = _search(api, where)
    expected = sorted(c.id for c in DEMO.customers if predicate(c))
    assert ids == expected
    assert total == len(expected)


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        pytest.param("{ customers(first: 101) { totalCount } }", "first", id="over-cap"),
        pytest.param("{ customers(first: -1) { totalCount } }", "first", id="negative"),
        pytest.param(
            '{ salesRep(id: "SR-001") { customers(first: 1000) { totalCount } } }',
            "first",
            id="nested-over-cap",
        ),
        pytest.param(
            '{ customer(id: "C-00001") { history(first: 101) { at } } }',
            "first",
            id="history-over-cap",
        ),
        pytest.param(
            '{ customers(after: "bm90LWEtY3Vyc29y") { totalCount } }', "after", id="foreign-cursor"
        ),
        pytest.param('{ salesReps(after: "%%%") { totalCount } }', "after", id="garbage-cursor"),
        pytest.param(
            f'{{ salesReps(after: "{cursor_for(CUSTOMERS, "SR-002")}") {{ totalCount }} }}',
            "after",
            id="customer-cursor-for-reps",
        ),
        pytest.param(
            f'{{ customers(after: "{cursor_for(SALES_REPS, "C-00002")}") {{ totalCount }} }}',
            "after",
            id="rep-cursor-for-customers",
        ),
        pytest.param(
            f'{{ salesRep(id: "SR-001") {{ customers(after: "{cursor_for(SALES_REPS, "C-00002")}")'
            " { totalCount } } }",
            "after",
            id="rep-cursor-for-a-reps-customers",
        ),
        pytest.param(
            '{ customers(filter: {salesRepId: "x y"}) { totalCount } }',
            "filter.salesRepId",
            id="malformed-filter-id",
        ),
    ],
)
def test_bad_page_arguments_are_clear_errors(api: Api, query: str, argument: str) -> None:
    body = api.post(query)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    # The failing field is nulled, and with it its nearest nullable parent.
    assert body["data"] in (None, {"salesRep": None}, {"customer": None})


def test_first_zero_returns_only_the_count(api: Api) -> None:
    page = api.data("{ customers(first: 0) { totalCount nodes { id } pageInfo { hasNextPage } } }")
    assert page["customers"] == {
        "totalCount": len(DEMO.customers),
        "nodes": [],
        "pageInfo": {"hasNextPage": True},
    }


def test_history_is_newest_first_with_reps_and_statuses(api: Api) -> None:
    customer = next(
        c for c in DEMO.customers if c.sales_rep_id and c.status is not CustomerStatus.PROSPECT
    )
    events = [e for e in DEMO.events if e.customer_id == customer.id]
    history = api.data(
        f'{{ customer(id: "{customer.id}") {{ history {{ kind at actor note'
        " fromStatus toStatus fromSalesRep { id } toSalesRep { id source } } } }"
    )["customer"]["history"]
    assert [h["kind"] for h in history] == [e.kind.value for e in reversed(events)]
    assert history[0]["toStatus"] == customer.status.value
    assert history[0]["fromStatus"] == "PROSPECT"
    assigned = next(h for h in history if h["kind"] == "ASSIGNED")
    assert assigned["toSalesRep"] == {"id": customer.sales_rep_id, "source": api.source}
    assert assigned["fromSalesRep"] is None
    assert history[-1]["kind"] == "CREATED"
    limited = api.data(f'{{ customer(id: "{customer.id}") {{ history(first: 1) {{ kind }} }} }}')
    assert limited["customer"]["history"] == [{"kind": history[0]["kind"]}]


def test_unknown_field_is_a_validation_error(api: Api) -> None:
    body = api.post('{ customer(id: "C-00001") { password } }')
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_reads_an_error_cut_short_are_still_reported(api: Api) -> None:
    # The bad cursor nulls the whole answer while the customer's read is under
    # way; the read is reported every time, however far it got by then.
    query = (
        '{ customer(id: "C-00001") { name } salesReps(after: "djE6Qy0wMDAxMA==") { totalCount } }'
    )
    read_alone = api.post('{ customer(id: "C-00001") { name } }')["extensions"]["stores"]
    assert read_alone["used"]
    for _ in range(20):
        answer = api.post(query)
        assert answer["data"] is None
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert answer["extensions"]["stores"] == read_alone
