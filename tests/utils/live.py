"""What the live-feed tests share: the subscription document, changes that each
write one event tagged with a note, and waits on the servers' own counters."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from devstack.live_client import WAIT_S, LiveClient
from tests.utils.jwt_tokens import claims, hs256
from tests.utils.metrics import scrape, value

# The client operation (tests/operations/): a rep's book or a customer's page, live.
SUBSCRIPTION = (
    Path(__file__).resolve().parents[1] / "operations" / "CustomerFeed.graphql"
).read_text()

_STATUS = "query Status($id: ID!) { customer(id: $id) { status } }"
_CHANGE = """
mutation Change($id: ID!, $status: CustomerStatus!, $note: String) {
  updateCustomerStatus(input: {customerId: $id, status: $status, note: $note}) { __typename }
}
"""
_ASSIGN = """
mutation Assign($id: ID!, $rep: ID!, $note: String) {
  assignCustomer(input: {customerId: $id, salesRepId: $rep, note: $note}) { __typename }
}
"""


def viewer_token(**overrides: Any) -> str:
    return hs256(claims("viewer@corp", ("viewer",), **overrides))


def manager_token() -> str:
    return hs256(claims("manager@corp", ("manager",)))


def api_client(base_url: str, token: str | None = None) -> httpx.AsyncClient:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=WAIT_S)


async def _post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def change_status(http: httpx.AsyncClient, customer_id: str, note: str) -> None:
    """One STATUS_CHANGED event on the customer, carrying `note`."""
    current = await _post(http, _STATUS, {"id": customer_id})
    status = "INACTIVE" if current["customer"]["status"] == "ACTIVE" else "ACTIVE"
    answer = await _post(http, _CHANGE, {"id": customer_id, "status": status, "note": note})
    assert answer["updateCustomerStatus"]["__typename"] == "Customer", answer


async def assign(http: httpx.AsyncClient, customer_id: str, rep_id: str, note: str) -> None:
    answer = await _post(http, _ASSIGN, {"id": customer_id, "rep": rep_id, "note": note})
    assert answer["assignCustomer"]["__typename"] == "Customer", answer


async def feed_message(client: LiveClient, id: str) -> dict[str, Any]:
    """The next message of a customerEvents subscription, as its data."""
    message: dict[str, Any] = (await client.data(id))["customerEvents"]
    return message


async def subscribed(client: LiveClient, **variables: Any) -> tuple[str, dict[str, Any]]:
    """A subscription that has caught up: its id and its LIVE status message."""
    id = await client.subscribe(SUBSCRIPTION, variables)
    status = await feed_message(client, id)
    assert status == {**status, "__typename": "CustomerFeedStatus", "state": "LIVE"}, status
    return id, status


async def events(client: LiveClient, id: str, count: int) -> list[dict[str, Any]]:
    """The next `count` messages, each an event (no status in between)."""
    received = [await feed_message(client, id) for _ in range(count)]
    assert all(m["__typename"] == "CustomerFeedEvent" for m in received), received
    return received


async def collect(
    client: LiveClient, id: str, count: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Messages until `count` events arrived: those events, and the status
    messages that came among them."""
    received: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    while len(received) < count:
        message = await feed_message(client, id)
        (received if message["__typename"] == "CustomerFeedEvent" else statuses).append(message)
    return received, statuses


def polls(base_url: str) -> float:
    with httpx.Client(base_url=base_url, timeout=WAIT_S) as http:
        samples, _ = scrape(http)
    return value(samples, "graphql_api_feed_polls_total", outcome="ok")


async def after_polls(base_url: str, count: int) -> None:
    """Returns once the server's feed has polled `count` more times."""
    target = polls(base_url) + count
    async with asyncio.timeout(WAIT_S):
        while True:
            if polls(base_url) >= target:
                return
            await asyncio.sleep(0.05)  # then read the server's counter again
