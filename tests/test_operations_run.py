"""The client operations do not just validate: they run and return what a page needs."""

from __future__ import annotations

from pathlib import Path

from tests.utils.api import Api

OPERATIONS = Path(__file__).resolve().parent / "operations"


def run(api: Api, name: str, variables: dict[str, object]) -> dict[str, object]:
    return api.data((OPERATIONS / f"{name}.graphql").read_text(), variables)


def test_customer_page_operation(api: Api) -> None:
    data = run(api, "CustomerPage", {"id": "C-00001"})
    customer = data["customer"]
    assert isinstance(customer, dict)
    assert customer["id"] == "C-00001"
    assert customer["source"] == api.source


def test_rep_book_operation_walks_pages(api: Api) -> None:
    first = run(api, "RepBook", {"id": "SR-001", "first": 10})["salesRep"]
    assert isinstance(first, dict)
    page = first["customers"]
    second = run(
        api, "RepBook", {"id": "SR-001", "first": 10, "after": page["pageInfo"]["endCursor"]}
    )["salesRep"]
    assert isinstance(second, dict)
    ids = [e["node"]["id"] for e in page["edges"] + second["customers"]["edges"]]
    assert ids == sorted(set(ids))
    assert len(ids) == 20


def test_assign_operation_then_search_sees_it(api: Api) -> None:
    result = run(
        api, "AssignCustomer", {"input": {"customerId": "C-00020", "salesRepId": "SR-001"}}
    )
    assert result["assignCustomer"] == {
        "__typename": "Customer",
        "id": "C-00020",
        "status": result["assignCustomer"]["status"],  # type: ignore[index]
        "version": result["assignCustomer"]["version"],  # type: ignore[index]
        "updatedAt": result["assignCustomer"]["updatedAt"],  # type: ignore[index]
        "salesRep": {"id": "SR-001", "fullName": result["assignCustomer"]["salesRep"]["fullName"]},  # type: ignore[index]
    }
    found = run(api, "CustomerSearch", {"filter": {"salesRepId": "SR-001"}, "first": 100})
    ids = [node["id"] for node in found["customers"]["nodes"]]  # type: ignore[index]
    assert "C-00020" in ids
