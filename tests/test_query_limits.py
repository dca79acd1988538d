"""Every query limit at its default: accepted at the limit, refused one past it, before any SQL."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from graphql import parse

from devstack.app_server import GraphQLClient
from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer
from graphql_api.schema import build_schema
from graphql_api.schema.limits import measure_operation
from graphql_api.settings import QueryLimits
from tests.utils.api import Api
from tests.utils.mariadb import StatementCounter

LIMITS = QueryLimits()
CUSTOMER = 'customer(id: "C-00001")'

# -- documents at and past each limit ----------------------------------------

_CHAIN = ("salesRep", "customers(first: 1)", "nodes")
_LEAF_UNDER = {"salesRep": "id", "customers(first: 1)": "totalCount", "nodes": "id"}


def _deep_selection(depth: int) -> str:
    """Inside `customer`: fields nesting so that the deepest leaf sits at `depth`."""
    path = [_CHAIN[level % 3] for level in range(depth - 1)]
    leaf = _LEAF_UNDER[path[-1]] if path else "id"
    return " { ".join([*path, leaf]) + " }" * len(path)


def deep(depth: int) -> str:
    return f"{{ {CUSTOMER} {{ {_deep_selection(depth)} }} }}"


def deep_in_fragment(depth: int) -> str:
    return (
        f"{{ {CUSTOMER} {{ ...Deep }} }} fragment Deep on Customer {{ {_deep_selection(depth)} }}"
    )


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: {CUSTOMER} {{ id }}" for i in range(count)) + " }"


def aliases_in_fragments(extra: int) -> str:
    """Five aliases in a fragment spread three times (15), plus `extra` more in another."""
    five = " ".join(f"c{i}: {CUSTOMER} {{ id }}" for i in range(5))
    more = " ".join(f"x{i}: __typename" for i in range(extra)) or "__typename"
    return (
        "{ ...Five ...Nested } fragment Nested on Query { ...Five ...Five ...More }"
        f" fragment Five on Query {{ {five} }} fragment More on Query {{ {more} }}"
    )


def tokens(count: int) -> str:
    """Operation Q, `query Q { customer(id: "C-00001") { id } }`, is 13 tokens and
    each other operation, `query F1 { __typename }`, 5; up to four more fields of
    Q's customer make the count exact. Nothing repeats: hundreds of one repeated
    field would trip the field merges limit instead."""
    fillers, extra = divmod(count - 13, 5)
    fields = " ".join(["id", *("name", "email", "phone", "city")[:extra]])
    operations = " ".join(f"query F{i} {{ __typename }}" for i in range(fillers))
    return f"query Q {{ {CUSTOMER} {{ {fields} }} }} {operations}"


# salesReps: 1 + 100 * (1 + 1 + (1 + 10 * (1 + 1 + (1 + 96)))) = 99,301
_REPS = (
    "salesReps(first: 100) { nodes { customers(first: 10) { nodes { history(first: 96) { at } }"
    " } } }"
)
# Six customers with a page of 100 events each: 6 * (1 + (1 + 100)) = 612
_PAGES = " ".join(f"h{i}: {CUSTOMER} {{ history(first: 100) {{ at }} }}" for i in range(6))


def costing(total: int) -> str:
    """99,301 + 612 + (2 + n) = total: a last customer asking for n events."""
    last = total - 99_301 - 612 - 2
    return f"{{ {_REPS} {_PAGES} last: {CUSTOMER} {{ history(first: {last}) {{ at }} }} }}"


def costing_through_variables_and_fragments(total: int) -> tuple[str, dict[str, Any]]:
    query = (
        "query Costly($reps: Int!, $size: Int = 96, $last: Int) {"
        " salesReps(first: $reps) { nodes { ...Book } } ...Pages"
        f" last: {CUSTOMER} {{ history(first: $last) {{ at }} }} }}"
        " fragment Book on SalesRep { customers(first: 10) { nodes { history(first: $size)"
        " { at } } } }"
        f" fragment Pages on Query {{ {_PAGES} }}"
    )
    return query, {"reps": 100, "last": total - 99_301 - 612 - 2}


def _limit_of(body: dict[str, Any]) -> dict[str, Any]:
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_LIMIT_EXCEEDED", error
    assert body["data"] is None
    extensions: dict[str, Any] = error["extensions"]
    return {**extensions, "message": error["message"]}


@pytest.fixture(scope="module")
def memory_api() -> Iterator[GraphQLClient]:
    with serve({}) as app:
        client = GraphQLClient(app.base_url)
        try:
            yield client
        finally:
            client.close()


# -- at the limit: accepted --------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(deep(LIMITS.max_depth), id="depth-8"),
        pytest.param(deep_in_fragment(LIMITS.max_depth), id="depth-8-in-fragment"),
        pytest.param(aliased(LIMITS.max_aliases), id="aliases-15"),
        pytest.param(aliases_in_fragments(0), id="aliases-15-in-fragments"),
        pytest.param(costing(LIMITS.max_cost), id="cost-100000"),
    ],
)
def test_a_query_at_the_limit_is_answered(memory_api: GraphQLClient, query: str) -> None:
    data = memory_api.data(query)
    assert data


def test_cost_at_the_limit_through_variables_and_fragments_is_answered(
    memory_api: GraphQLClient,
) -> None:
    query, variables = costing_through_variables_and_fragments(LIMITS.max_cost)
    assert memory_api.data(query, variables)["salesReps"]["nodes"]


# -- one past the limit: refused, naming the limit ----------------------------


@pytest.mark.parametrize(
    ("query", "limit", "actual", "message_part"),
    [
        pytest.param(deep(9), "depth", 9, "9 levels deep; at most 8", id="depth-9"),
        pytest.param(deep_in_fragment(9), "depth", 9, "at most 8", id="depth-9-in-fragment"),
        pytest.param(aliased(16), "aliases", 16, "16 aliases; at most 15", id="aliases-16"),
        pytest.param(
            aliases_in_fragments(1), "aliases", 16, "16 aliases", id="aliases-16-in-fragments"
        ),
        pytest.param(costing(100_001), "cost", 100_001, "cost 100001", id="cost-100001"),
    ],
)
def test_a_query_one_past_the_limit_is_refused_with_a_clear_message(
    memory_api: GraphQLClient, query: str, limit: str, actual: int, message_part: str
) -> None:
    refused = _limit_of(memory_api.post(query))
    assert (refused["limit"], refused["actual"]) == (limit, actual)
    assert message_part in refused["message"]


def test_tokens_at_the_limit_are_answered(memory_api: GraphQLClient) -> None:
    response = memory_api.http.post(
        "/graphql", json={"query": tokens(LIMITS.max_tokens), "operationName": "Q"}
    )
    assert "errors" not in response.json(), response.text
    assert response.json()["data"]["customer"]["id"] == "C-00001"


def test_tokens_one_past_the_limit_are_refused(memory_api: GraphQLClient) -> None:
    refused = _limit_of(memory_api.post(tokens(LIMITS.max_tokens + 1)))
    assert (refused["limit"], refused["maximum"]) == ("tokens", 2000)
    assert "more than 2000 tokens" in refused["message"]


def test_cost_counts_variables_and_fragments(memory_api: GraphQLClient) -> None:
    query, variables = costing_through_variables_and_fragments(100_001)
    refused = _limit_of(memory_api.post(query, variables))
    assert (refused["limit"], refused["actual"]) == ("cost", 100_001)


def test_each_request_gets_the_verdict_of_its_own_variables(memory_api: GraphQLClient) -> None:
    # The fast path keeps verdicts per document and the values its measure read;
    # the same document alternates between within and past the limit.
    query, at = costing_through_variables_and_fragments(LIMITS.max_cost)
    past = {**at, "last": at["last"] + 1}
    for variables, answered in ((at, True), (past, False), (at, True), (past, False)):
        body = memory_api.post(query, variables)
        assert ("errors" not in body) is answered, body
        # Answered or refused, the answer says what the operation cost.
        assert body["extensions"]["cost"] == {
            "requestedQueryCost": LIMITS.max_cost + (0 if answered else 1),
            "maximumQueryCost": LIMITS.max_cost,
        }
    # A variable with a default, given: another value, another verdict.
    assert "errors" not in memory_api.post(query, {**past, "size": 95})


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        # customer 1 + salesRep 1; a page 1 + first * (1 + nodes 1)
        pytest.param(f"{{ {CUSTOMER} {{ id salesRep {{ id }} }} }}", {}, 2, id="to-one"),
        pytest.param(
            "query($n: Int) { salesReps(first: $n) { nodes { id } } }", {"n": 7}, 15, id="page"
        ),
        pytest.param("{ __typename }", {}, 0, id="leaf"),
        # A field error (a foreign cursor) still ran the operation: it was measured.
        pytest.param(
            '{ salesReps(first: 2, after: "eA==") { totalCount } }', {}, 3, id="field-error"
        ),
    ],
)
def test_every_answer_reports_its_cost(
    memory_api: GraphQLClient, query: str, variables: dict[str, Any], cost: int
) -> None:
    body = memory_api.post(query, variables)
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": cost,
        "maximumQueryCost": LIMITS.max_cost,
    }
    schema = build_schema()._schema
    measure = measure_operation(schema, parse(query), operation_name=None, variables=variables)
    assert measure is not None
    assert measure.cost == cost


@pytest.mark.parametrize(
    "query", ["{ customer(id: ", "{ nope }"], ids=["syntax-error", "validation-error"]
)
def test_a_document_that_never_ran_reports_no_cost(memory_api: GraphQLClient, query: str) -> None:
    body = memory_api.post(query)
    assert body["errors"]
    assert "cost" not in body.get("extensions", {}), body


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param("{ customers { nodes { id } } }", {}, id="first-omitted"),
        pytest.param("{ customers(first: null) { nodes { id } } }", {}, id="first-null"),
        pytest.param(
            "query($n: Int) { customers(first: $n) { nodes { id } } }", {}, id="variable-not-given"
        ),
        pytest.param(
            "query($n: Int = 50) { customers(first: $n) { nodes { id } } }",
            {},
            id="variable-default",
        ),
    ],
)
def test_a_page_without_first_costs_the_default_page(query: str, variables: dict[str, Any]) -> None:
    # 1 + 50 * (1 + 1): the default page of 50, each node with its id.
    with serve({"GRAPHQL_API_MAX_COST": "100"}) as app:
        client = GraphQLClient(app.base_url)
        try:
            refused = _limit_of(client.post(query, variables))
            assert (refused["actual"], refused["maximum"]) == (101, 100)
            assert client.data("{ customers(first: 49) { nodes { id } } }")
        finally:
            client.close()


def test_a_fragment_cycle_is_refused(memory_api: GraphQLClient) -> None:
    body = memory_api.post(
        f"{{ {CUSTOMER} {{ ...A }} }}"
        " fragment A on Customer { salesRep { ...B } }"
        " fragment B on SalesRep { customers { nodes { ...A } } }"
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Cannot spread fragment 'A' within itself via 'B'" in error["message"]


def _fan(levels: int) -> str:
    """Each fragment spreads the next twice: 2**levels aliases in a few hundred tokens."""
    fragments = " ".join(
        f"fragment F{level} on Query {{ ...F{level + 1} ...F{level + 1} }}"
        for level in range(levels)
    )
    return f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ a: __typename }}"


def test_a_fan_of_fragments_is_refused_before_validation(memory_api: GraphQLClient) -> None:
    """The field merges count gives up at its budget, however far the fan spreads."""
    refused = _limit_of(memory_api.post(_fan(40)))
    assert (refused["limit"], refused["maximum"]) == ("fieldMerges", LIMITS.max_field_merges)


def test_the_measure_remembers_each_fragment_of_a_fan() -> None:
    """A walk along every path of the fan would not finish."""
    schema = build_schema()._schema
    measure = measure_operation(schema, parse(_fan(40)), operation_name=None, variables=None)
    assert measure is not None
    assert measure.aliases == 2**40


# -- validation's budget: repeated fields -----------------------------------------


def repeated(copies: int, *, name: str = "Q", extra: int = 0) -> str:
    """`copies` of `salesRep { id }` in one customer, then `extra` distinct leaves.

    Its field merges: 2 for `customer`, then k + e collected and k² + e merged
    inside it, then k + k² for the `id`s: 2 + 2k + 2k² + 2e."""
    leaves = " ".join(("name", "email", "phone", "city")[:extra])
    return f"query {name} {{ {CUSTOMER} {{ {'salesRep { id } ' * copies}{leaves} }} }}"


def test_field_merges_at_the_limit_are_answered_and_just_past_refused() -> None:
    # 20 copies: 2 + 40 + 800 = 842; one more leaf, 844 (counts go in steps of two).
    with serve({"GRAPHQL_API_MAX_FIELD_MERGES": "842"}) as app:
        client = GraphQLClient(app.base_url)
        try:
            answered = client.data(repeated(20))["customer"]
            refused = _limit_of(client.post(repeated(20, extra=1)))
        finally:
            client.close()
    assert answered["salesRep"]["id"]
    assert (refused["limit"], refused["maximum"]) == ("fieldMerges", 842)
    assert "more than 842" in refused["message"]


def test_a_validation_bomb_costs_the_other_clients_nothing(mysql_api: Api) -> None:
    """490 copies of `salesRep { id }`: 1,961 tokens, seconds of validation before.

    Ten at once, each with a fresh operation name (no cache can help), from one
    client; a cheap query from another is answered meanwhile, and the bombs
    reach no store."""
    assert mysql_api.mariadb is not None
    counter = StatementCounter(mysql_api.mariadb)
    before = counter.total()
    base_url = mysql_api.client.base_url
    names = [f"Q{secrets.token_hex(8)}" for _ in range(10)]
    with (
        ThreadPoolExecutor(max_workers=len(names)) as pool,
        httpx.Client(base_url=base_url, timeout=30) as attacker,
    ):
        bombs = [
            pool.submit(attacker.post, "/graphql", json={"query": repeated(490, name=name)})
            for name in names
        ]
        other = GraphQLClient(base_url)
        try:
            cheap = other.data('{ customer(id: "C-00002") { id } }')
        finally:
            other.close()
        answers = [bomb.result().json() for bomb in bombs]
    assert cheap == {"customer": {"id": "C-00002"}}
    for answer in answers:
        assert _limit_of(answer)["limit"] == "fieldMerges"
    # The cheap query's one statement; none for the bombs.
    assert counter.total() - before == 1


# -- batches and bodies -------------------------------------------------------


def _batch(count: int) -> list[dict[str, str]]:
    return [{"query": f"query Q{i} {{ {CUSTOMER} {{ id }} }}"} for i in range(count)]


def test_a_batch_at_the_limit_is_answered(memory_api: GraphQLClient) -> None:
    response = memory_api.http.post("/graphql", json=_batch(LIMITS.max_batch_operations))
    assert response.status_code == 200
    results = response.json()
    assert [r["data"]["customer"]["id"] for r in results] == ["C-00001"] * 10


def test_a_batch_one_past_the_limit_is_refused(memory_api: GraphQLClient) -> None:
    response = memory_api.http.post("/graphql", json=_batch(LIMITS.max_batch_operations + 1))
    assert response.status_code == 400
    refused = _limit_of(response.json())
    assert (refused["limit"], refused["maximum"], refused["actual"]) == ("batch", 10, 11)
    assert "at most 10 operations" in refused["message"]


def _body_of_size(size: int) -> bytes:
    payload = json.dumps({"query": f"{{ {CUSTOMER} {{ id }} }}"}).encode()
    return payload + b" " * (size - len(payload))


def _post_body(client: GraphQLClient, body: bytes | Iterator[bytes]) -> httpx.Response:
    return client.http.post("/graphql", content=body, headers={"content-type": "application/json"})


def test_a_body_at_the_limit_is_answered(memory_api: GraphQLClient) -> None:
    body = _body_of_size(LIMITS.max_body_bytes)
    assert len(body) == 65536
    response = _post_body(memory_api, body)
    assert response.status_code == 200
    assert response.json() == {
        "data": {"customer": {"id": "C-00001"}},
        "extensions": {
            "stores": {"used": ["MEMORY"], "degraded": False},
            "cost": {"requestedQueryCost": 1, "maximumQueryCost": 100_000},
        },
    }


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_one_byte_past_the_limit_is_refused(
    memory_api: GraphQLClient, chunked: bool
) -> None:
    body = _body_of_size(LIMITS.max_body_bytes + 1)
    content: bytes | Iterator[bytes] = iter([body[:40_000], body[40_000:]]) if chunked else body
    response = _post_body(memory_api, content)
    assert response.status_code == 413
    refused = _limit_of(response.json())
    assert (refused["limit"], refused["maximum"]) == ("body", 65536)
    assert refused["requestId"] == response.headers["x-request-id"]


# -- refused before any SQL ---------------------------------------------------


@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param({"query": deep(9)}, id="depth"),
        pytest.param({"query": aliases_in_fragments(1)}, id="aliases"),
        pytest.param({"query": tokens(2001)}, id="tokens"),
        pytest.param({"query": costing(100_001)}, id="cost"),
        pytest.param(_batch(11), id="batch"),
        pytest.param(
            {
                "query": f"{{ {CUSTOMER} {{ ...A }} }}"
                " fragment A on Customer { salesRep { ...B } }"
                " fragment B on SalesRep { customers { nodes { ...A } } }"
            },
            id="fragment-cycle",
        ),
    ],
)
def test_a_refused_query_sends_no_sql(mysql_api: Api, request_body: object) -> None:
    assert mysql_api.mariadb is not None
    counter = StatementCounter(mysql_api.mariadb)
    before = counter.total()
    response = mysql_api.client.http.post("/graphql", json=request_body)
    assert "errors" in response.json()
    assert counter.total() == before


def test_an_oversized_body_sends_no_sql(mysql_api: Api) -> None:
    assert mysql_api.mariadb is not None
    counter = StatementCounter(mysql_api.mariadb)
    before = counter.total()
    assert _post_body(mysql_api.client, _body_of_size(65537)).status_code == 413
    assert counter.total() == before


# -- the request timeout -------------------------------------------------------


def test_a_request_that_outlives_the_timeout_ends_with_timeout(
    seeded_mariadb: MariaDBServer,
) -> None:
    env = mysql_env(
        seeded_mariadb,
        GRAPHQL_API_REQUEST_TIMEOUT="3",
        # The store would wait longer: the request timeout is what ends it.
        GRAPHQL_API_MYSQL_QUERY_TIMEOUT="60",
        GRAPHQL_API_MYSQL_CONNECT_TIMEOUT="60",
    )
    with serve(env) as app:
        client = GraphQLClient(app.base_url)
        try:
            assert client.data(f"{{ {CUSTOMER} {{ id }} }}") == {"customer": {"id": "C-00001"}}
            seeded_mariadb.pause()
            try:
                response = client.http.post(
                    "/graphql", json={"query": '{ customer(id: "C-00002") { id } }'}
                )
            finally:
                seeded_mariadb.resume()
        finally:
            client.close()
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "TIMEOUT", "requestId": response.headers["x-request-id"]}
    assert error["message"] == "The request took longer than 3 s and was stopped."
    # No store answered in time: the response says so, like any other degraded answer.
    assert response.json()["extensions"] == {"stores": {"used": [], "degraded": True}}
