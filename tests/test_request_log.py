"""X-Request-ID in and out, and one JSON log line per request without secrets or contact data."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from devstack.env import serve
from graphql_api.web.log_format import JsonFormatter
from tests.utils.jwt_tokens import auth_env, bearer, claims, hs256

_GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        pytest.param("req-42.abc_DEF", True, id="plain"),
        pytest.param("has spaces in it", False, id="spaces"),
        pytest.param("x" * 65, False, id="too-long"),
        pytest.param("a\u00e9b", False, id="not-ascii"),
        pytest.param(None, False, id="absent"),
    ],
)
def test_request_id_is_taken_when_plain_or_generated(given: str | None, kept: bool) -> None:
    # Bytes, so a non-ASCII value goes out as it is (httpx would refuse the str).
    headers: dict[bytes, bytes] = {} if given is None else {b"X-Request-ID": given.encode()}
    with serve({}) as app, httpx.Client(base_url=app.base_url) as http:
        graphql = http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        health = http.get("/healthz", headers=headers)
    for response in (graphql, health):
        returned = response.headers["x-request-id"]
        if kept:
            assert returned == given
        else:
            assert _GENERATED.fullmatch(returned)


def test_one_json_line_per_request_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    token = hs256(claims(subject="manager-9", roles=("manager",)))
    email, phone, password = "jane.doe@customer.example", "+1 555 0100 999", "hunter2-pw"
    mutation = (
        "mutation Update($input: UpdateCustomerInput!) { updateCustomer(input: $input)"
        " { __typename } }"
    )
    variables = {"input": {"customerId": "C-00001", "email": email, "phone": phone}}
    caplog.set_level("INFO", logger="graphql_api.access")
    with serve(auth_env()) as app, httpx.Client(base_url=app.base_url) as http:
        response = http.post(
            "/graphql",
            json={"query": mutation, "variables": variables},
            headers={**bearer(token), "X-Request-ID": "trace-1", "X-Password": password},
        )
        assert response.json() == {
            "data": {"updateCustomer": {"__typename": "Customer"}},
            "extensions": {
                "stores": {"used": ["MEMORY"], "degraded": False},
                "cost": {"requestedQueryCost": 1, "maximumQueryCost": 100_000},
            },
        }
        http.post(
            "/graphql",
            json={"query": "{ customers(first: -1) { totalCount } }"},
            headers={**bearer(token), "X-Request-ID": "trace-2"},
        )
    records = [r for r in caplog.records if r.name == "graphql_api.access"]
    assert len(records) == 2
    first, second = (json.loads(JsonFormatter().format(record)) for record in records)
    assert first["request_id"] == "trace-1"
    assert first["operations"] == ["Update"]
    assert first["status"] == 200
    assert first["outcome"] == "ok"
    # What the response's extensions.stores said, from the same StoreUsage.
    assert (first["stores"], first["degraded"]) == (["MEMORY"], False)
    assert first["error_codes"] == []
    assert isinstance(first["duration_ms"], float)
    assert (second["outcome"], second["error_codes"]) == ("error", ["BAD_USER_INPUT"])
    assert second["operations"] == ["anonymous"]
    everything = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    for secret in (token, email, phone, password, "Bearer"):
        assert secret not in everything


def test_a_long_operation_name_is_cut_in_the_log_line(caplog: pytest.LogCaptureFixture) -> None:
    name = "Q" + "x" * 29_999
    caplog.set_level("INFO", logger="graphql_api.access")
    with serve({}) as app, httpx.Client(base_url=app.base_url) as http:
        answer = http.post("/graphql", json={"query": f"query {name} {{ __typename }}"})
        assert answer.json()["data"] == {"__typename": "Query"}
    [record] = [r for r in caplog.records if r.name == "graphql_api.access"]
    line = JsonFormatter().format(record)
    assert json.loads(line)["operations"] == [name[:64] + "...(30000 characters)"]
    assert len(line) < 1_000


def test_an_exception_is_logged_by_type_and_place_only() -> None:
    try:
        raise ValueError("SELECT secret FROM customers WHERE password = 'x'")
    except ValueError:
        import logging
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert line["error"]["type"] == "ValueError"
    assert line["error"]["where"].startswith("test_request_log.py:")
    assert "SELECT" not in json.dumps(line)
