"""The REST routes are observed like GraphQL requests: request ids, one access line
each, the metrics, and the document they are served by."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from devstack.env import dynamodb_env, serve
from devstack.moto_server import MotoServer
from graphql_api.web.log_format import JsonFormatter
from tests.utils.metrics import scrape, value
from tests.utils.rest import DEMO, assign, problem, update

CUSTOMER = DEMO.customers[4]


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    lines = [
        json.loads(formatter.format(r)) for r in caplog.records if r.name == "graphql_api.access"
    ]
    return [line for line in lines if line["path"] != "/metrics"]


def test_one_access_line_and_metrics_per_rest_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="graphql_api.access")
    with serve({}) as app, httpx.Client(base_url=app.base_url) as http:
        read = http.get(f"/customers/{CUSTOMER.id}", headers={"X-Request-ID": "trace-rest-1"})
        missing = http.get("/customers/C-NOPE")
        samples, _ = scrape(http)
    assert read.headers["x-request-id"] == "trace-rest-1"
    found, refused = _access_lines(caplog)
    assert found["request_id"] == "trace-rest-1"
    assert (found["route"], found["operations"], found["status"]) == (
        "getCustomer",
        ["RestGetCustomer"],
        200,
    )
    assert (found["stores"], found["outcome"]) == (["MEMORY"], "ok")
    assert (refused["status"], refused["error_codes"]) == (404, ["NOT_FOUND"])
    assert refused["request_id"] == problem(missing, 404, "NOT_FOUND")["requestId"]
    for outcome in ("ok", "error"):
        labels = {"operation": "getCustomer", "outcome": outcome}
        assert value(samples, "graphql_api_requests_total", **labels) == 1
    assert value(samples, "graphql_api_errors_total", code="NOT_FOUND") == 1
    assert value(samples, "graphql_api_fast_path_total", outcome="answered") == 2


def test_the_served_document_is_the_committed_one(repo_root: Path) -> None:
    with serve({}) as app, httpx.Client(base_url=app.base_url) as http:
        served = http.get("/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.text == (repo_root / "openapi.json").read_text()


def test_a_dynamodb_only_server_reads_and_answers_writes_with_503(moto: MotoServer) -> None:
    change = {"customerId": CUSTOMER.id, "salesRepId": "SR-001"}
    with (
        serve(dynamodb_env(moto, GRAPHQL_API_STORES="dynamodb")) as app,
        httpx.Client(base_url=app.base_url) as http,
    ):
        read = http.get(f"/customers/{CUSTOMER.id}")
        writes = [
            assign(http, change),
            assign(http, change, {"Idempotency-Key": "no-writer"}),
            update(http, CUSTOMER.id, {"status": "ACTIVE"}),
        ]
    assert read.json()["source"] == "dynamodb"
    for refused in writes:
        problem(refused, 503, "STORE_UNAVAILABLE")
        assert int(refused.headers["retry-after"]) >= 1
