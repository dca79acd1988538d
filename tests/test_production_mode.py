"""GRAPHQL_API_ENV=production: no introspection, no GraphiQL, no hints, nothing leaks."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer
from devstack.ports import free_port
from graphql_api.web.log_format import JsonFormatter
from tests.utils.jwt_tokens import auth_env, bearer, claims, hs256

PRODUCTION = {"GRAPHQL_API_ENV": "production", **auth_env()}
# Made at import: valid for an hour, so a slow run (make test-pythons on a busy machine
# took 11 minutes) reaches this module's last test before the token expires.
MANAGER = bearer(hs256(claims(roles=("manager",), exp=int(time.time()) + 3600)))


@pytest.fixture(scope="module")
def production_http() -> Iterator[httpx.Client]:
    with (
        serve({**PRODUCTION, "GRAPHQL_API_STORES": "memory"}) as app,
        httpx.Client(base_url=app.base_url, headers=MANAGER, timeout=30) as http,
    ):
        yield http


def _errors(http: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> list[Any]:
    response = http.post("/graphql", json={"query": query, "variables": variables or {}})
    errors: list[Any] = response.json()["errors"]
    return errors


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ __schema { types { name } } }", id="schema"),
        pytest.param('{ __type(name: "Customer") { fields { name } } }', id="type"),
    ],
)
def test_introspection_is_off(production_http: httpx.Client, query: str) -> None:
    errors = _errors(production_http, query)
    assert {error["extensions"]["code"] for error in errors} == {"GRAPHQL_VALIDATION_FAILED"}
    assert all("introspection has been disabled" in error["message"] for error in errors)


def test_typename_still_answers(production_http: httpx.Client) -> None:
    response = production_http.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {
        "data": {"__typename": "Query"},
        # No store was asked.
        "extensions": {
            "stores": {"used": [], "degraded": False},
            "cost": {"requestedQueryCost": 0, "maximumQueryCost": 100_000},
        },
    }


def test_graphiql_is_not_served(production_http: httpx.Client) -> None:
    page = production_http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()
    assert page.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# Each of these earns a "Did you mean ...?" from graphql-core in development.
MISSPELT = [
    pytest.param(
        '{ customer(id: "C-00001") { nam } }', None, "Cannot query field 'nam'", id="field"
    ),
    pytest.param(
        "{ customers(frist: 5) { totalCount } }", None, "Unknown argument 'frist'", id="argument"
    ),
    pytest.param(
        "query($s: CustomerStatuss) { customers(filter: {status: $s}) { totalCount } }",
        None,
        "Unknown type 'CustomerStatuss'",
        id="type",
    ),
    pytest.param(
        "{ customers(filter: {status: ACTIV}) { totalCount } }",
        None,
        "Value 'ACTIV' does not exist",
        id="enum-literal",
    ),
    pytest.param(
        "query($s: CustomerStatus) { customers(filter: {status: $s}) { totalCount } }",
        {"s": "ACTIV"},
        "Value 'ACTIV' does not exist",
        id="enum-variable",
    ),
    pytest.param(
        "{ customers(filter: {statu: ACTIVE}) { totalCount } }",
        None,
        "unknown field 'statu'",
        id="input-field",
    ),
]


@pytest.mark.parametrize(("query", "variables", "message_start"), MISSPELT)
def test_no_field_suggestions_in_production(
    production_http: httpx.Client, query: str, variables: dict[str, Any] | None, message_start: str
) -> None:
    [error] = _errors(production_http, query, variables)
    assert message_start in error["message"]
    assert "Did you mean" not in error["message"]


@pytest.mark.parametrize(("query", "variables", "message_start"), MISSPELT)
def test_development_keeps_the_suggestions(
    query: str, variables: dict[str, Any] | None, message_start: str
) -> None:
    """The other side of the test above: the same documents do get hints in development."""
    with serve({}) as app, httpx.Client(base_url=app.base_url) as http:
        [error] = _errors(http, query, variables)
    assert "Did you mean" in error["message"]


# -- nothing leaks from a fault ------------------------------------------------

# What must never reach a client: stack traces, SQL, driver and exception names,
# host names and addresses, hints at the schema.
_LEAKS = re.compile(
    r"Traceback|File \"|\.py\b|\bSELECT\b|\bINSERT\b|\bUPDATE\b|\bFROM\b|\bWHERE\b|asyncmy|pymysql"
    r"|OperationalError|ProgrammingError|IntegrityError|Errno|errno|127\.0\.0\.1|localhost"
    r"|doesn't exist|Access denied|Unknown database|Did you mean|customers_moved"
)


def _assert_nothing_leaks(response: httpx.Response, *secrets: str) -> None:
    seen = response.text + " " + " ".join(f"{k}: {v}" for k, v in response.headers.items())
    assert not _LEAKS.search(seen), seen
    for secret in secrets:
        assert secret not in seen, seen
    assert response.status_code < 500 or response.status_code == 503, seen


def _assert_logs_leak_nothing(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    """The log lines as the server writes them (JsonFormatter): no SQL, traces or secrets."""
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any('"logger": "graphql_api.access"' in line for line in lines)
    for line in lines:
        assert not re.search(r"Traceback|File \"|\bSELECT\b|\bINSERT\b|\bUPDATE\b", line), line
        for secret in secrets:
            assert secret not in line, line


def _production_server(env: dict[str, str]) -> Any:
    return serve({**PRODUCTION, **env})


QUERY = '{ customer(id: "C-00001") { id name salesRep { id } history(first: 2) { kind } } }'
WRITE = (
    'mutation { assignCustomer(input: {customerId: "C-00001", salesRepId: "SR-002"})'
    " { __typename } }"
)


def _fault_responses(http: httpx.Client) -> list[httpx.Response]:
    return [
        http.post("/graphql", json={"query": QUERY}),
        http.post("/graphql", json={"query": WRITE}),
        http.get("/readyz"),
    ]


@pytest.mark.parametrize(
    ("env_change", "code"),
    [
        pytest.param({"RDS_PORT": "closed"}, "STORE_UNAVAILABLE", id="nothing-listening"),
        pytest.param(
            {"RDS_PASSWORD": "wrong-password-xyz"}, "STORE_UNAVAILABLE", id="access-denied"
        ),
        pytest.param(
            {"RDS_DATABASE": "no_such_database"}, "STORE_UNAVAILABLE", id="unknown-database"
        ),
    ],
)
def test_a_broken_database_connection_leaks_nothing(
    mariadb: MariaDBServer,
    env_change: dict[str, str],
    code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    env = mysql_env(mariadb, **env_change)
    if env_change.get("RDS_PORT") == "closed":
        env["RDS_PORT"] = str(free_port())
    with (
        _production_server(env) as app,
        httpx.Client(base_url=app.base_url, headers=MANAGER) as http,
    ):
        responses = _fault_responses(http)
    for response in responses:
        _assert_nothing_leaks(response, mariadb.password, env["RDS_PASSWORD"], env["RDS_DATABASE"])
    _assert_logs_leak_nothing(caplog, mariadb.password, env["RDS_PASSWORD"])
    query, write, ready = responses
    for response in (query, write):
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": code, "requestId": response.headers["x-request-id"]}
    assert ready.status_code == 503


def test_broken_tables_leak_nothing(
    seeded_mariadb: MariaDBServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    connection = seeded_mariadb.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("RENAME TABLE customers TO customers_moved")
        with (
            _production_server(mysql_env(seeded_mariadb)) as app,
            httpx.Client(base_url=app.base_url, headers=MANAGER) as http,
        ):
            responses = _fault_responses(http)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RENAME TABLE customers_moved TO customers")
        connection.close()
    query, write, ready = responses
    for response in (query, write):
        _assert_nothing_leaks(response, seeded_mariadb.password)
        [error] = response.json()["errors"]
        assert error["extensions"] == {
            "code": "INTERNAL",
            "requestId": response.headers["x-request-id"],
        }
        assert error["message"] == "Internal error."
    # SELECT 1 needs no table: the store still answers.
    assert ready.status_code == 200
    _assert_logs_leak_nothing(caplog, seeded_mariadb.password)


# Deeper than the JSON decoder goes on every supported Python (3.13's parses 8,000
# levels, 3.11's stops at 1,000), within the 64 KiB body limit.
_DEEP = b"[" * 30_000 + b"]" * 30_000


@pytest.mark.parametrize(
    ("content", "content_type", "status", "message"),
    [
        pytest.param(
            b'"{ __typename }"', "application/json", 400, "must be a JSON object", id="string"
        ),
        pytest.param(b"42", "application/json", 400, "must be a JSON object", id="number"),
        pytest.param(b"null", "application/json", 400, "must be a JSON object", id="null"),
        pytest.param(b"true", "application/json", 400, "must be a JSON object", id="true"),
        pytest.param(b"[]", "application/json", 400, "at least one operation", id="empty-batch"),
        pytest.param(
            b'[{"query": "{ __typename }"}, 7]',
            "application/json",
            400,
            "Operation 2 of the batch must be a JSON object",
            id="batch-with-a-number",
        ),
        pytest.param(
            b'[[{"query": "{ __typename }"}]]',
            "application/json",
            400,
            "Operation 1 of the batch must be a JSON object",
            id="nested-batch",
        ),
        pytest.param(_DEEP, "application/json", 400, "not valid JSON", id="nested-deep"),
        pytest.param(
            b'{"query": "{ __typename }", "operationName": "\xff"}',
            "application/json",
            400,
            "not valid JSON",
            id="invalid-utf8",
        ),
        pytest.param(
            b'{"query": "{ __typename }", "variables": [1]}',
            "application/json",
            400,
            "`variables` must be an object or null",
            id="variables-a-list",
        ),
        pytest.param(
            b'{"query": "{ __typename }", "operationName": 3}',
            "application/json",
            400,
            "`operationName` must be a string or null",
            id="operation-name-a-number",
        ),
        pytest.param(
            b'{"query": "query($n: String) { customers(filter: {nameContains: $n})'
            b' { totalCount } }", "variables": {"n": "x\\ud800"}}',
            "application/json",
            400,
            "`variables.n` holds a lone UTF-16 surrogate",
            id="lone-surrogate",
        ),
        pytest.param(
            b'{"query": "{ __typename }", "variables": {"v": '
            + b"[" * 900
            + b'"\\udc00"'
            + b"]" * 900
            + b"}}",
            "application/json",
            400,
            "[0][0][0]",
            id="lone-surrogate-900-deep",
        ),
        pytest.param(
            b'{"query": "{ __typename }"}',
            "application/jsonx",
            415,
            "application/json",
            id="media-type-by-prefix",
        ),
    ],
)
def test_malformed_bodies_are_400s_that_say_what_is_wrong(
    production_http: httpx.Client, content: bytes, content_type: str, status: int, message: str
) -> None:
    response = production_http.post(
        "/graphql", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert message in error["message"]


def test_a_surrogate_pair_is_text(production_http: httpx.Client) -> None:
    """An escaped pair is one character (here an emoji): only a lone half is refused."""
    response = production_http.post(
        "/graphql",
        content=b'{"query": "query($n: String) { customers(filter: {nameContains: $n})'
        b' { totalCount } }", "variables": {"n": "\\ud83d\\ude00"}}',
        headers={"content-type": "application/json"},
    )
    assert response.json() == {
        "data": {"customers": {"totalCount": 0}},
        "extensions": {
            "stores": {"used": ["MEMORY"], "degraded": False},
            # The default page: 1 + 50 * (1 + 0)
            "cost": {"requestedQueryCost": 51, "maximumQueryCost": 100_000},
        },
    }


def test_a_trailing_slash_redirects_relatively_whatever_the_host(
    production_http: httpx.Client,
) -> None:
    moved = production_http.get(
        "/graphql/", params={"query": "{ __typename }"}, headers={"Host": "evil.example"}
    )
    assert moved.status_code == 307
    assert moved.headers["location"] == "/graphql?query=%7B+__typename+%7D"
    elsewhere = production_http.get("/healthz/", headers={"Host": "evil.example"})
    assert elsewhere.status_code == 404
    assert "location" not in elsewhere.headers


def test_two_authorization_headers_are_refused(production_http: httpx.Client) -> None:
    response = production_http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers=[("authorization", MANAGER["Authorization"]), ("authorization", "Bearer x")],
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "one Authorization header" in error["message"]


@pytest.mark.parametrize("method", ["HEAD", "PUT"])
def test_methods_graphql_does_not_take_are_405_and_allow_says_which_it_does(
    production_http: httpx.Client, method: str
) -> None:
    response = production_http.request(method, "/graphql")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}


def test_a_get_with_variables_that_are_not_json_is_a_400(production_http: httpx.Client) -> None:
    response = production_http.get(
        "/graphql", params={"query": "{ __typename }", "variables": "[" * 5_000}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["message"] == "`variables` is not valid JSON."


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b"{not json", "application/json", id="bad-json"),
        pytest.param(b"\xff\xfe\x00garbage", "application/json", id="not-utf8"),
        pytest.param(b'{"query": 42}', "application/json", id="query-not-a-string"),
        pytest.param(
            b'{"query": "{ customers(first: 99999999999999999999) { totalCount } }"}',
            "application/json",
            id="int-overflow",
        ),
        pytest.param(
            b'{"query": "{ customer(id: \\"C-00001\\") { id } "}',
            "application/json",
            id="unclosed-brace",
        ),
        pytest.param(b"query=x", "application/x-www-form-urlencoded", id="form-post"),
        pytest.param(b"{}", "application/json", id="no-query"),
    ],
)
def test_malformed_requests_get_clear_errors_and_leak_nothing(
    production_http: httpx.Client, content: bytes, content_type: str
) -> None:
    response = production_http.post(
        "/graphql", content=content, headers={"content-type": content_type}
    )
    _assert_nothing_leaks(response)
    assert response.status_code in (200, 400, 415)
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] in {"BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED"}
    assert error["message"]
