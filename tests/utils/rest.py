"""The REST routes as a test sees them: source names, problem answers, the demo's facts."""

from __future__ import annotations

from typing import Any

import httpx

from graphql_api.stores.demo import demo_data

# GraphQL's source -> the REST routes' (the replaced function's names).
REST_SOURCE = {"MEMORY": "mock", "MYSQL": "mysql", "DYNAMODB": "dynamodb"}
DEMO = demo_data()
INACTIVE_REP = next(rep.id for rep in DEMO.sales_reps if not rep.active)
ACTIVE_REPS = [rep.id for rep in DEMO.sales_reps if rep.active]


def other_active_rep(current: str | None) -> str:
    return next(rep for rep in ACTIVE_REPS if rep != current)


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem details of a refusal, checked for its status, type and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "urn:graphql-api:problem:" + code.lower().replace("_", "-")
    assert body["requestId"] == response.headers["x-request-id"]
    return body


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def assign(
    http: httpx.Client, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return http.post("/assignments", json=body, headers=headers)


def update(
    http: httpx.Client,
    customer_id: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return http.put(f"/customers/{customer_id}", json=body, headers=headers)
