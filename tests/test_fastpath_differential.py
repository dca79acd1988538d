"""The fast path and the reference execution answer every request byte for byte alike.

Two servers of the same app over the same store, one with the fast path and one
without (GRAPHQL_API_FAST_PATH=false), get the same requests: the client
operations, a few hundred generated queries (aliases, fragments, @include and
@skip, variables with defaults and nulls, unknown ids, bad cursors, pages over
the cap) and hypothesis-graphql's random ones, against memory, MariaDB and
DynamoDB, and with the stores failing. Status, headers and body must match, and
the fast path must have answered a good share of them itself (its counter in
/metrics), so the comparison cannot pass by the fast path declining everything.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import StringValueNode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries as random_queries

from devstack.env import dynamodb_env, mysql_env, serve
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from devstack.ports import free_port
from graphql_api.admin.db_init import apply_sql_files
from graphql_api.schema import build_schema, schema_sdl
from graphql_api.settings import load_settings
from tests.utils.mariadb import reseed
from tests.utils.metrics import scrape, value
from tests.utils.query_strategies import feed_queries, mutations, read_queries

pytestmark = pytest.mark.long_running

OPERATIONS = Path(__file__).resolve().parent / "operations"
SCHEMA = build_schema()._schema
_A_DATE = StringValueNode(value="2024-01-01T00:00:00+00:00")
# Headers that differ between two servers whatever they answer.
_PER_SERVER = frozenset({"date", "server"})


@dataclass
class Twins:
    fast: httpx.Client
    reference: httpx.Client
    store: str

    def compare(self, body: object) -> dict[str, Any]:
        headers = {"x-request-id": "differential"}
        fast = self.fast.post("/graphql", json=body, headers=headers)
        reference = self.reference.post("/graphql", json=body, headers=headers)
        assert fast.status_code == reference.status_code, body
        assert _headers(fast) == _headers(reference), body
        assert fast.content == reference.content, body
        answer: dict[str, Any] = fast.json() if isinstance(fast.json(), dict) else {}
        return answer

    def fast_path_answers(self) -> float:
        samples, _ = scrape(self.fast)
        return value(samples, "graphql_api_fast_path_total", outcome="answered")


@contextmanager
def _twin_clients(
    env: dict[str, str], reference_env: dict[str, str] | None = None
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two servers of the app, the fast path on and off, and a client for each."""
    with (
        serve({**env, "GRAPHQL_API_FAST_PATH": "true"}) as fast,
        serve({**(reference_env or env), "GRAPHQL_API_FAST_PATH": "false"}) as reference,
        httpx.Client(base_url=fast.base_url, timeout=30) as fast_client,
        httpx.Client(base_url=reference.base_url, timeout=30) as reference_client,
    ):
        yield fast_client, reference_client


def _headers(response: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k not in _PER_SERVER]


@pytest.fixture(scope="module", params=["memory", "mysql", "dynamodb"])
def twins(
    request: pytest.FixtureRequest, mariadb: MariaDBServer, moto: MotoServer
) -> Iterator[Twins]:
    env: dict[str, str] = {}
    if request.param == "mysql":
        reseed(mariadb)
        env = mysql_env(mariadb)
    elif request.param == "dynamodb":
        env = dynamodb_env(moto, GRAPHQL_API_STORES="dynamodb")
    with _twin_clients(env) as (fast_client, reference_client):
        yield Twins(fast_client, reference_client, request.param)


_OPERATION_VARIABLES: dict[str, list[dict[str, Any]]] = {
    "CustomerPage": [{"id": "C-00001"}, {"id": "C-99999"}, {"id": ""}],
    "RepBook": [
        {"id": "SR-001", "first": 101},
        {"id": "SR-001", "first": 10},
        {"id": "SR-002", "first": 3, "after": "djE6Qy0wMDAxMA=="},
        {"id": "SR-001", "after": "not a cursor"},
        {"id": "SR-003", "first": 2},
    ],
    "RepList": [{}, {"first": 5}, {"first": 0}],
    "CustomerSearch": [
        {"filter": {"salesRepId": "SR-001"}, "first": 100},
        {"filter": {"status": "ACTIVE", "nameContains": "health"}},
        {"filter": {"status": "NOT_A_STATUS"}},
        {},
    ],
}


def test_client_operations_answer_alike(twins: Twins) -> None:
    before = twins.fast_path_answers()
    for name, variable_sets in _OPERATION_VARIABLES.items():
        document = (OPERATIONS / f"{name}.graphql").read_text()
        for variables in variable_sets:
            twins.compare({"query": document, "variables": variables})
    assert twins.fast_path_answers() - before >= 8


_EXAMPLES = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_generated_queries_answer_alike(twins: Twins) -> None:
    before = twins.fast_path_answers()
    # moto answers a Query by walking its table in Python: fewer there.
    examples = 60 if twins.store == "dynamodb" else 150

    @settings(_EXAMPLES, max_examples=examples)
    @given(query=read_queries(SCHEMA))
    def check(query: tuple[str, dict[str, Any]]) -> None:
        document, variables = query
        twins.compare({"query": document, "variables": variables})

    check()
    # Most generated queries reach the data: the comparison is not between two
    # reference executions.
    assert twins.fast_path_answers() - before >= 0.6 * examples


def test_generated_feed_queries_answer_alike(twins: Twins) -> None:
    """The events feed (Query.customerEvents): filters, cursors of its own and of
    other lists, pages at and over the cap, fragments and aliases inside."""

    @settings(_EXAMPLES, max_examples=15 if twins.store == "dynamodb" else 40)
    @given(query=feed_queries(SCHEMA))
    def check(query: tuple[str, dict[str, Any]]) -> None:
        document, variables = query
        twins.compare({"query": document, "variables": variables})

    check()


def test_random_queries_answer_alike(twins: Twins) -> None:
    @settings(_EXAMPLES, max_examples=30 if twins.store == "dynamodb" else 60)
    @given(
        random_queries(
            schema_sdl(), custom_scalars={"DateTime": st.just(StringValueNode(value="2024-01-01"))}
        )
    )
    def check(document: object) -> None:
        twins.compare({"query": document})

    check()


# The fast path keeps a plan per document: the same document again, with other
# variables, must still answer as the first time.
_REPEATED: list[tuple[str, list[dict[str, Any]]]] = [
    ("{ customers(first: 101) { totalCount } }", [{}, {}]),
    (
        "query Q($n: Int, $id: ID!) { salesRep(id: $id) { fullName customers(first: $n) {"
        " nodes { id history(first: 1) { kind } } } } }",
        [{"n": 500, "id": "SR-001"}, {"n": 2, "id": "SR-001"}, {"n": 1, "id": "nope"}],
    ),
    (
        "query Q($show: Boolean!, $id: ID!) { customer(id: $id) { id name @include(if: $show)"
        " salesRep @skip(if: $show) { id } } }",
        [{"show": True, "id": "C-00003"}, {"show": False, "id": "C-00003"}],
    ),
]


def test_partial_pages_answer_alike(twins: Twins) -> None:
    """A rep's page read for a few fields reads only their columns (fastpath
    project): its partial records must answer nothing else, not a customer(id)
    of the same request (they prime no loader), nor an alias of the same page
    asking for more, nor cursors."""
    first_page = twins.fast.post(
        "/graphql",
        json={"query": '{ salesRep(id: "SR-001") { customers(first: 3) { nodes { id } } } }'},
    ).json()
    on_page = first_page["data"]["salesRep"]["customers"]["nodes"][0]["id"]
    whole = "id name status version createdAt updatedAt source salesRep { id }"
    documents = [
        f'{{ salesRep(id: "SR-001") {{ customers(first: 3) {{ nodes {{ id name }} }} }}'
        f' customer(id: "{on_page}") {{ {whole} }} }}',
        f'{{ salesRep(id: "SR-001") {{ few: customers(first: 3) {{ nodes {{ name }} }}'
        f" all: customers(first: 3) {{ nodes {{ {whole} }} }} }} }}",
        '{ salesRep(id: "SR-001") { customers(first: 2) { totalCount pageInfo { startCursor'
        " endCursor hasNextPage } edges { cursor node { __typename email } } } } }",
        "{ salesReps(first: 3) { nodes { customers(first: 2) { nodes { name status"
        " history(first: 1) { kind } } } } } }",
    ]
    before = twins.fast_path_answers()
    for document in documents:
        answer = twins.compare({"query": document})
        assert "errors" not in answer, answer
    # Answered by the fast path itself: a partial record where a whole one was
    # due would have handed the request to the reference execution.
    assert twins.fast_path_answers() - before == len(documents)
    whole_customer = twins.compare({"query": documents[0]})["data"]["customer"]
    assert None not in (whole_customer["status"], whole_customer["version"]), whole_customer


def test_repeated_documents_answer_alike(twins: Twins) -> None:
    for document, variable_sets in _REPEATED:
        for variables in variable_sets:
            twins.compare({"query": document, "variables": variables})


def test_batches_answer_alike(twins: Twins) -> None:
    batch = [
        {"query": '{ customer(id: "C-00001") { id name salesRep { id } } }'},
        {
            "query": "query Q($n: Int) { salesReps(first: $n) { totalCount } }",
            "variables": {"n": 2},
        },
        {"query": '{ customer(id: "C-00002") { nope } }'},
    ]
    twins.compare(batch)


@pytest.mark.parametrize(
    "fallback", [pytest.param(False, id="mysql-down"), pytest.param(True, id="mysql-down-dynamodb")]
)
def test_store_failures_answer_alike(
    fallback: bool, mariadb: MariaDBServer, moto: MotoServer
) -> None:
    """MySQL at a port where nothing listens: every read fails, or falls back."""
    env = {**mysql_env(mariadb), "RDS_PORT": str(free_port())}
    if fallback:
        env = {**dynamodb_env(moto), **env, "GRAPHQL_API_STORES": "mysql,dynamodb"}
        env["GRAPHQL_API_OUTBOX_RELAY"] = "false"
    with _twin_clients(env) as (fast_client, reference_client):
        twins = Twins(fast_client, reference_client, "failing")
        # First, while the breaker is closed: a write the primary refuses is
        # tried once, whoever answers.
        write = (
            'mutation { assignCustomer(input: {customerId: "C-00020", salesRepId: "SR-001"})'
            " { __typename } }"
        )
        answer = twins.compare({"query": write})
        assert answer["errors"][0]["extensions"]["code"] == "STORE_UNAVAILABLE"
        for document in (
            '{ customer(id: "C-00001") { id name source salesRep { id source } } }',
            "{ salesReps(first: 3) { nodes { id customers(first: 2) { nodes { id } } } } }",
            '{ a: customer(id: "C-00003") { id } b: salesRep(id: "SR-001") { fullName } }',
        ):
            answer = twins.compare({"query": document})
            stores = answer["extensions"]["stores"]
            assert stores["degraded"] is True
            assert stores["used"] == (["DYNAMODB"] if fallback else [])
        # A request the fast path hands on costs the stores no more than before;
        # one it answers from the fallback may cost less (the customer and its
        # rep in one call, where the reference reads them one after the other).
        fast_calls, reference_calls = _store_calls(fast_client), _store_calls(reference_client)
        if fallback:
            assert all(fast_calls[key] <= reference_calls[key] for key in fast_calls)
        else:
            assert fast_calls == reference_calls


def _store_calls(client: httpx.Client) -> Counter[tuple[str, str]]:
    """Store calls by store and outcome, whatever the call."""
    samples, _ = scrape(client)
    calls: Counter[tuple[str, str]] = Counter()
    for (name, labels), count in samples.items():
        by_name = dict(labels)
        # The live feed's polls run beside the requests, on their own clock.
        if name == "graphql_api_store_calls_total" and by_name["call"] not in _FEED_POLLS:
            calls[by_name["store"], by_name["outcome"]] += int(count)
    return calls


_FEED_POLLS = frozenset({"events_after", "newest_event_id"})


def test_timeouts_answer_alike(mariadb: MariaDBServer) -> None:
    """A stalled MariaDB: the request timeout ends both alike."""
    reseed(mariadb)
    env = mysql_env(
        mariadb,
        GRAPHQL_API_REQUEST_TIMEOUT="1",
        GRAPHQL_API_MYSQL_QUERY_TIMEOUT="60",
        GRAPHQL_API_MYSQL_CONNECT_TIMEOUT="60",
    )
    with _twin_clients(env) as (fast_client, reference_client):
        twins = Twins(fast_client, reference_client, "stalled")
        document = '{ customer(id: "C-00001") { id salesRep { id } } }'
        twins.compare({"query": document})
        mariadb.pause()
        try:
            # Two loads in flight when the time is up: neither may hold the answer back.
            stalled = '{ a: customer(id: "C-00002") { id } b: salesRep(id: "SR-005") { id } }'
            answer = twins.compare({"query": stalled})
        finally:
            mariadb.resume()
    assert answer["errors"][0]["extensions"]["code"] == "TIMEOUT"


# Times of day differ between two servers writing the same change; every other
# byte must not.
_TIMESTAMP = re.compile(rb'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00"')


@pytest.fixture(params=["memory", "mysql"])
def writing_twins(
    request: pytest.FixtureRequest, mariadb: MariaDBServer
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Twins that each write to a store of their own, both from the demo rows."""
    fast_env: dict[str, str] = {}
    reference_env: dict[str, str] = {}
    if request.param == "mysql":
        reseed(mariadb)
        fast_env = mysql_env(mariadb)
        reference_env = {**fast_env, "RDS_DATABASE": _fresh_database(mariadb, "twin")}
    with _twin_clients(fast_env, reference_env=reference_env) as (fast_client, reference_client):
        yield fast_client, reference_client


def _fresh_database(server: MariaDBServer, name: str) -> str:
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    finally:
        connection.close()
    settings = load_settings({**mysql_env(server), "RDS_DATABASE": name})
    assert settings.mysql is not None
    asyncio.run(apply_sql_files(settings.mysql, with_seed=True))
    return name


def test_mutations_answer_alike(writing_twins: tuple[httpx.Client, httpx.Client]) -> None:
    """The same writes in the same order, then a read of what they changed."""
    fast, reference = writing_twins
    answered_before = _answered(fast)
    headers = {"x-request-id": "differential"}

    @settings(_EXAMPLES, max_examples=80)
    @given(operation=mutations())
    def check(operation: tuple[str, dict[str, Any]]) -> None:
        document, variables = operation
        body = {"query": document, "variables": variables}
        answers = [
            client.post("/graphql", json=body, headers=headers) for client in (fast, reference)
        ]
        assert answers[0].status_code == answers[1].status_code, body
        assert _headers(answers[0]) == _headers(answers[1]), body
        bodies = [_TIMESTAMP.sub(b'"T"', answer.content) for answer in answers]
        assert bodies[0] == bodies[1], body

    check()
    after = (
        "{ customers(first: 100) { nodes { id name email city status version salesRep { id } } } }"
    )
    read = [client.post("/graphql", json={"query": after}).content for client in (fast, reference)]
    assert read[0] == read[1]
    assert _answered(fast) - answered_before >= 60


def _answered(client: httpx.Client) -> float:
    samples, _ = scrape(client)
    return value(samples, "graphql_api_fast_path_total", outcome="answered")


def test_batches_with_writes_answer_alike(writing_twins: tuple[httpx.Client, httpx.Client]) -> None:
    """Operations of a batch run side by side: one's write is never another's answer."""
    fast, reference = writing_twins
    assign = (
        "mutation { assignCustomer(input: {customerId: %s, salesRepId: %s}) {"
        " __typename ... on Customer { id salesRep { id } %s } ... on UserError { code } } }"
    )
    batch = [
        {"query": assign % ('"C-00001"', '"SR-002"', "")},
        # history(first: 101) is over the cap: strawberry answers this one.
        {"query": assign % ('"C-00002"', '"SR-003"', "history(first: 101) { kind }")},
        {"query": assign % ('"C-99999"', '"SR-003"', "")},
    ]
    answers = [client.post("/graphql", json=batch) for client in (fast, reference)]
    bodies = [_TIMESTAMP.sub(b'"T"', answer.content) for answer in answers]
    assert bodies[0] == bodies[1]
    after = (
        '{ a: customer(id: "C-00001") { salesRep { id } version }'
        ' b: customer(id: "C-00002") { salesRep { id } version } }'
    )
    reads = [client.post("/graphql", json={"query": after}).json() for client in (fast, reference)]
    assert reads[0] == reads[1]
    assert reads[0]["data"]["b"]["salesRep"] == {"id": "SR-003"}
