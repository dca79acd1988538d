"""GraphQL over HTTP as the specification has it, both response media types.

graphql-http's own audits (tests/graphql_js, the reference implementation's
conformance checks, every MUST and SHOULD) run against the app with auth on;
the cases below pin what the audits leave open: which errors are request
errors, the status of each, batches, and the negotiation itself.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.env import serve
from graphql_api.web.media_types import GRAPHQL_RESPONSE_JSON, JSON, response_media_type
from tests.utils.jwt_tokens import auth_env, bearer, claims, hs256

AUDIT = Path(__file__).parent / "graphql_js" / "audit.mjs"
CUSTOMER = '{ customer(id: "C-00001") { id } }'


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with serve(auth_env()) as app:
        yield app.base_url


@pytest.fixture(scope="module")
def http(app_url: str) -> Iterator[httpx.Client]:
    token = hs256(claims(roles=("manager",)))
    with httpx.Client(base_url=app_url, headers=bearer(token), timeout=30) as client:
        yield client


def test_graphql_http_audits_all_pass(app_url: str) -> None:
    token = hs256(claims(roles=("manager",)))
    audited = subprocess.run(
        ["node", str(AUDIT), f"{app_url}/graphql", json.dumps(bearer(token))],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(audited.stdout)
    assert len(results) >= 60, results
    failed = [f"{r['status']} {r['name']}: {r['reason']}" for r in results if r["status"] != "ok"]
    assert failed == []


def _post(http: httpx.Client, body: object, accept: str = GRAPHQL_RESPONSE_JSON) -> httpx.Response:
    return http.post("/graphql", json=body, headers={"Accept": accept})


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param({"query": "{ customer(id: "}, 400, "GRAPHQL_VALIDATION_FAILED", id="syntax"),
        pytest.param({"query": "{ nope }"}, 400, "GRAPHQL_VALIDATION_FAILED", id="validation"),
        pytest.param(
            {
                "query": "query($n: Int) { salesReps(first: $n) { totalCount } }",
                "variables": {"n": "x"},
            },
            400,
            "BAD_USER_INPUT",
            id="variable-coercion",
        ),
        pytest.param(
            {"query": "{ __typename }", "operationName": "Other"},
            400,
            "BAD_REQUEST",
            id="no-such-operation",
        ),
        pytest.param(
            {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }"},
            400,
            "QUERY_LIMIT_EXCEEDED",
            id="over-a-limit",
        ),
    ],
)
def test_a_request_error_is_4xx_without_data(
    http: httpx.Client, body: dict[str, Any], status: int, code: str
) -> None:
    response = _post(http, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    answer = response.json()
    assert "data" not in answer
    assert [error["extensions"]["code"] for error in answer["errors"]] == [code]
    # The same request in application/json: `data: null`, and 200 but for the
    # operation name that names none (strawberry's 400, as ever).
    legacy = _post(http, body, accept=JSON)
    assert legacy.status_code == (400 if code == "BAD_REQUEST" else 200)
    assert legacy.headers["content-type"] == JSON
    assert legacy.json()["data"] is None


def test_a_missing_role_is_403_without_data(app_url: str) -> None:
    viewer = bearer(hs256(claims(roles=("viewer",))))
    response = httpx.post(
        f"{app_url}/graphql",
        json={"query": 'mutation { unassignCustomer(customerId: "C-00001") { __typename } }'},
        headers={**viewer, "Accept": GRAPHQL_RESPONSE_JSON},
    )
    assert response.status_code == 403
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_an_operation_that_ran_is_200_with_its_data(http: httpx.Client) -> None:
    # Answered by the fast path: the same bytes in either media type.
    answered = _post(http, {"query": CUSTOMER})
    assert answered.status_code == 200
    assert answered.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert answered.content == _post(http, {"query": CUSTOMER}, accept=JSON).content
    # A field's error (`first` over the cap) is not a request error: data is there.
    field_error = _post(http, {"query": "{ customers(first: -1) { totalCount } }"})
    assert field_error.status_code == 200
    body = field_error.json()
    assert body["data"] is None
    assert body["errors"][0]["path"] == ["customers"]


def test_a_batch_is_200_and_each_request_error_has_no_data(http: httpx.Client) -> None:
    response = _post(http, [{"query": "{ nope }"}, {"query": "{ __typename }"}])
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    refused, answered = response.json()
    assert "data" not in refused
    assert answered["data"] == {"__typename": "Query"}


def test_an_error_the_http_layer_answers_has_no_data(http: httpx.Client, app_url: str) -> None:
    response = _post(http, "not an operation")
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert "data" not in response.json()
    unauthenticated = httpx.post(
        f"{app_url}/graphql",
        json={"query": CUSTOMER},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )
    assert unauthenticated.status_code == 401
    assert "data" not in unauthenticated.json()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(None, JSON, id="none"),
        pytest.param("*/*", JSON, id="anything"),
        pytest.param("application/json", JSON, id="json"),
        pytest.param(GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON, id="graphql-response"),
        pytest.param(
            f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9",
            GRAPHQL_RESPONSE_JSON,
            id="preferred",
        ),
        pytest.param(f"application/json, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON, id="tie"),
        pytest.param(f"application/json, {GRAPHQL_RESPONSE_JSON};q=0.5", JSON, id="json-preferred"),
        pytest.param(f"*/*, {GRAPHQL_RESPONSE_JSON};q=0.5", JSON, id="wildcard-preferred"),
        pytest.param(f"{GRAPHQL_RESPONSE_JSON};q=0", JSON, id="refused"),
        pytest.param(f"{GRAPHQL_RESPONSE_JSON};q=x", JSON, id="bad-quality"),
        pytest.param(
            "Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE_JSON, id="case"
        ),
    ],
)
def test_the_media_type_follows_accept(accept: str | None, expected: str) -> None:
    assert response_media_type(accept) == expected
