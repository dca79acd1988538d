"""Writes, against every store: versions, history, typed failures, no partial writes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.utils.api import Api
from tests.utils.rest import INACTIVE_REP

RESULT = """
  __typename
  ... on Customer { id name contactPerson email phone address city state zipCode country
                    status version source salesRep { id } }
  ... on UserError { code message }
  ... on NotFoundError { id }
  ... on ValidationError { field }
  ... on VersionConflictError { currentVersion }
  ... on AlreadyExistsError { id }
"""
STATE = """
  query($id: ID!) { customer(id: $id) {
    version status salesRep { id } name email
    history(first: 100) {
      kind actor note fromStatus toStatus fromSalesRep { id } toSalesRep { id }
    }
  } }
"""


def mutate(api: Api, name: str, input: dict[str, Any]) -> dict[str, Any]:
    input_type = name[0].upper() + name[1:] + "Input"
    data = api.data(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {RESULT} }} }}",
        {"input": input},
    )
    result: dict[str, Any] = data[name]
    return result


def state(api: Api, customer_id: str) -> dict[str, Any] | None:
    customer: dict[str, Any] | None = api.data(STATE, {"id": customer_id})["customer"]
    return customer


def test_assign_moves_customer_bumps_version_and_records_event(api: Api) -> None:
    before = state(api, "C-00001")
    assert before is not None
    result = mutate(
        api,
        "assignCustomer",
        {
            "customerId": "C-00001",
            "salesRepId": "SR-007",
            "expectedVersion": before["version"],
            "note": "territory change",
        },
    )
    assert result["__typename"] == "Customer"
    assert result["salesRep"] == {"id": "SR-007"}
    assert result["version"] == before["version"] + 1
    assert result["source"] == api.source
    after = state(api, "C-00001")
    assert after is not None
    assert after["version"] == before["version"] + 1
    assert after["history"][0] == {
        "kind": "ASSIGNED",
        "actor": None,
        "note": "territory change",
        "fromStatus": None,
        "toStatus": None,
        "fromSalesRep": before["salesRep"],
        "toSalesRep": {"id": "SR-007"},
    }
    assert after["history"][1:] == before["history"]
    rep = api.data('{ salesRep(id: "SR-007") { customers(first: 100) { nodes { id } } } }')
    assert {"id": "C-00001"} in rep["salesRep"]["customers"]["nodes"]


def test_assign_with_stale_version_is_a_conflict_and_changes_nothing(api: Api) -> None:
    before = state(api, "C-00002")
    assert before is not None
    result = mutate(
        api,
        "assignCustomer",
        {"customerId": "C-00002", "salesRepId": "SR-007", "expectedVersion": before["version"] - 1},
    )
    assert result == {
        "__typename": "VersionConflictError",
        "code": "VERSION_CONFLICT",
        "message": result["message"],
        "currentVersion": before["version"],
    }
    assert state(api, "C-00002") == before


def test_assign_to_the_current_rep_changes_nothing(api: Api) -> None:
    before = state(api, "C-00001")
    assert before is not None
    result = mutate(
        api, "assignCustomer", {"customerId": "C-00001", "salesRepId": before["salesRep"]["id"]}
    )
    assert result["version"] == before["version"]
    assert state(api, "C-00001") == before


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        pytest.param(
            {"customerId": "C-99999", "salesRepId": "SR-001"},
            {"__typename": "NotFoundError", "code": "NOT_FOUND", "id": "C-99999"},
            id="unknown-customer",
        ),
        pytest.param(
            {"customerId": "C-00003", "salesRepId": "SR-999"},
            {"__typename": "NotFoundError", "code": "NOT_FOUND", "id": "SR-999"},
            id="unknown-rep",
        ),
        pytest.param(
            {"customerId": "C-00003", "salesRepId": "SR-010"},
            {"__typename": "ValidationError", "code": "VALIDATION", "field": "salesRepId"},
            id="inactive-rep",
        ),
    ],
)
def test_assign_failures_are_typed_results(
    api: Api, input: dict[str, Any], expected: dict[str, Any]
) -> None:
    before = state(api, "C-00003")
    result = mutate(api, "assignCustomer", input)
    assert {key: result[key] for key in expected} == expected
    assert result["message"]
    assert state(api, "C-00003") == before


def test_unassign_then_unassign_again(api: Api) -> None:
    before = state(api, "C-00004")
    assert before is not None
    assert before["salesRep"] is not None
    first = mutate(api, "unassignCustomer", {"customerId": "C-00004", "note": "left"})
    assert first["salesRep"] is None
    assert first["version"] == before["version"] + 1
    second = mutate(api, "unassignCustomer", {"customerId": "C-00004"})
    assert second["version"] == first["version"]
    after = state(api, "C-00004")
    assert after is not None
    assert after["history"][0]["kind"] == "UNASSIGNED"
    assert after["history"][0]["fromSalesRep"] == before["salesRep"]
    assert len(after["history"]) == len(before["history"]) + 1


def test_status_and_unassignment_are_one_change(api: Api) -> None:
    before = state(api, "C-00013")
    assert before is not None
    assert before["salesRep"] is not None
    target = "CHURNED" if before["status"] != "CHURNED" else "ACTIVE"
    change = {"customerId": "C-00013", "status": target, "salesRepId": None}
    result = mutate(api, "updateCustomerStatus", change)
    assert result["status"] == target
    after = state(api, "C-00013")
    assert after is not None
    assert (after["version"], after["salesRep"]) == (before["version"] + 1, None)
    kinds = [event["kind"] for event in after["history"][:2]]
    assert kinds == ["UNASSIGNED", "STATUS_CHANGED"]


def test_status_with_an_inactive_rep_changes_nothing(api: Api) -> None:
    before = state(api, "C-00016")
    assert before is not None
    target = "CHURNED" if before["status"] != "CHURNED" else "ACTIVE"
    change = {"customerId": "C-00016", "status": target, "salesRepId": INACTIVE_REP}
    result = mutate(api, "updateCustomerStatus", change)
    assert result["code"] == "VALIDATION"
    assert state(api, "C-00016") == before


def test_status_change_is_recorded_with_from_and_to(api: Api) -> None:
    before = state(api, "C-00005")
    assert before is not None
    target = "CHURNED" if before["status"] != "CHURNED" else "ACTIVE"
    result = mutate(
        api,
        "updateCustomerStatus",
        {"customerId": "C-00005", "status": target, "expectedVersion": before["version"]},
    )
    assert result["status"] == target
    after = state(api, "C-00005")
    assert after is not None
    assert after["history"][0]["kind"] == "STATUS_CHANGED"
    assert (after["history"][0]["fromStatus"], after["history"][0]["toStatus"]) == (
        before["status"],
        target,
    )


def test_create_customer_with_and_without_id(api: Api) -> None:
    named = mutate(
        api,
        "createCustomer",
        {
            "id": "NEW-1",
            "name": "Northwind",
            "email": "ops@northwind.example",
            "salesRepId": "SR-001",
            "status": "ACTIVE",
        },
    )
    assert named["__typename"] == "Customer"
    assert (named["id"], named["version"], named["status"]) == ("NEW-1", 1, "ACTIVE")
    assert named["salesRep"] == {"id": "SR-001"}
    created = state(api, "NEW-1")
    assert created is not None
    assert [h["kind"] for h in created["history"]] == ["CREATED"]
    assert created["history"][0]["toSalesRep"] == {"id": "SR-001"}
    generated = mutate(api, "createCustomer", {"name": "Anon Ltd"})
    assert generated["__typename"] == "Customer"
    assert 0 < len(generated["id"]) <= 20
    assert generated["status"] == "PROSPECT"
    assert state(api, generated["id"]) is not None


def test_create_with_a_taken_id_is_already_exists(api: Api) -> None:
    before = state(api, "C-00006")
    result = mutate(api, "createCustomer", {"id": "C-00006", "name": "Impostor"})
    assert result["__typename"] == "AlreadyExistsError"
    assert (result["code"], result["id"]) == ("ALREADY_EXISTS", "C-00006")
    assert state(api, "C-00006") == before


@pytest.mark.parametrize(
    ("rep", "typename"),
    [
        pytest.param("SR-010", "ValidationError", id="inactive-rep"),
        pytest.param("SR-404", "NotFoundError", id="unknown-rep"),
    ],
)
def test_create_with_a_bad_rep_writes_nothing(api: Api, rep: str, typename: str) -> None:
    result = mutate(api, "createCustomer", {"id": "NEW-2", "name": "X", "salesRepId": rep})
    assert result["__typename"] == typename
    assert state(api, "NEW-2") is None


def test_update_customer_sets_clears_and_keeps_fields(api: Api) -> None:
    before = api.data('{ customer(id: "C-00007") { phone city version } }')["customer"]
    result = mutate(
        api, "updateCustomer", {"customerId": "C-00007", "name": "Renamed", "phone": None}
    )
    assert (result["name"], result["phone"], result["city"]) == ("Renamed", None, before["city"])
    assert result["version"] == before["version"] + 1
    after = state(api, "C-00007")
    assert after is not None
    assert after["history"][0]["kind"] == "UPDATED"
    unchanged = mutate(api, "updateCustomer", {"customerId": "C-00007", "name": "Renamed"})
    assert unchanged["version"] == result["version"]


LONG = "x" * 201
INVALID_INPUTS = [
    ("createCustomer", {"name": ""}, "name"),
    ("createCustomer", {"name": "   "}, "name"),
    ("createCustomer", {"name": "\x00\x00"}, "name"),
    ("createCustomer", {"name": "\t\x07\x1b"}, "name"),
    ("createCustomer", {"name": LONG}, "name"),
    ("createCustomer", {"id": "Z" * 21, "name": "A"}, "id"),
    ("createCustomer", {"id": "bad id", "name": "A"}, "id"),
    ("createCustomer", {"name": "A", "email": "not-an-email"}, "email"),
    ("createCustomer", {"name": "A", "email": "a" * 95 + "@x.com"}, "email"),
    ("createCustomer", {"name": "A", "contactPerson": "p" * 101}, "contactPerson"),
    ("createCustomer", {"name": "A", "phone": "1" * 21}, "phone"),
    ("createCustomer", {"name": "A", "phone": "call me"}, "phone"),
    ("createCustomer", {"name": "A", "address": "a" * 1001}, "address"),
    ("createCustomer", {"name": "A", "city": "c" * 101}, "city"),
    ("createCustomer", {"name": "A", "state": "s" * 51}, "state"),
    ("createCustomer", {"name": "A", "zipCode": "9" * 21}, "zipCode"),
    ("createCustomer", {"name": "A", "country": "c" * 51}, "country"),
    ("createCustomer", {"name": "A", "salesRepId": "S" * 21}, "salesRepId"),
    ("updateCustomer", {"customerId": "C-00008", "name": ""}, "name"),
    ("updateCustomer", {"customerId": "C-00008", "name": None}, "name"),
    ("updateCustomer", {"customerId": "C-00008", "email": "@"}, "email"),
    ("updateCustomer", {"customerId": "C-00008", "expectedVersion": 0}, "expectedVersion"),
    ("updateCustomer", {"customerId": "C" * 21, "name": "A"}, "customerId"),
    ("assignCustomer", {"customerId": "C-00008", "salesRepId": ""}, "salesRepId"),
    (
        "assignCustomer",
        {"customerId": "C-00008", "salesRepId": "SR-001", "note": "n" * 501},
        "note",
    ),
    ("unassignCustomer", {"customerId": "C-00008", "expectedVersion": -3}, "expectedVersion"),
    ("updateCustomerStatus", {"customerId": "C-00008;--", "status": "ACTIVE"}, "customerId"),
]


@pytest.mark.parametrize(
    ("mutation", "input", "field"),
    [pytest.param(m, i, f, id=f"{m}-{f}-{n}") for n, (m, i, f) in enumerate(INVALID_INPUTS)],
)
def test_invalid_input_is_a_validation_error_naming_the_field(
    api: Api, mutation: str, input: dict[str, Any], field: str
) -> None:
    before_customer = state(api, "C-00008")
    before_total = api.data("{ customers(first: 0) { totalCount } }")
    result = mutate(api, mutation, input)
    assert result["__typename"] == "ValidationError"
    assert result["code"] == "VALIDATION"
    assert result["field"] == field
    assert field in result["message"]
    assert state(api, "C-00008") == before_customer
    assert api.data("{ customers(first: 0) { totalCount } }") == before_total


INJECTIONS = [
    "'; DROP TABLE customers; --",
    "Robert'); DELETE FROM sales_reps WHERE ('1'='1",
    '" OR 1=1 -- \\',
    "%_\\%",
]


@pytest.mark.parametrize("payload", INJECTIONS, ids=["drop", "delete", "or-true", "wildcards"])
def test_sql_injection_strings_are_stored_and_returned_verbatim(api: Api, payload: str) -> None:
    texts = {
        "name": payload,
        "contactPerson": payload,
        "address": payload,
        "city": payload,
        "state": payload[:50],
        "country": payload[:50],
        "zipCode": payload[:20],
    }
    created = mutate(api, "createCustomer", {"id": "INJ-1", **texts})
    assert created["__typename"] == "Customer", created
    assert {key: created[key] for key in texts} == texts
    noted = mutate(
        api, "assignCustomer", {"customerId": "INJ-1", "salesRepId": "SR-001", "note": payload}
    )
    assert noted["__typename"] == "Customer"
    fetched = api.data(
        'query($q: String) { customer(id: "INJ-1") { name history(first: 1) { note } }'
        " customers(filter: {nameContains: $q}) { nodes { id } } }",
        {"q": payload},
    )
    assert fetched["customer"] == {"name": payload, "history": [{"note": payload}]}
    assert fetched["customers"]["nodes"] == [{"id": "INJ-1"}]
    assert api.data("{ salesReps { totalCount } }")["salesReps"]["totalCount"] == 20
