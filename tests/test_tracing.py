"""OpenTelemetry spans: request, operation (name, type, cost), store calls; fallbacks and
breaker transitions as events; the caller's traceparent continued; OTLP/HTTP end to end."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from devstack.app_server import ApiProcess, AppServer
from devstack.env import dynamodb_env
from devstack.moto_server import MotoServer
from devstack.ports import free_port
from graphql_api.app import create_app
from graphql_api.settings import load_settings
from tests.utils.otlp_receiver import OtlpReceiver
from tests.utils.recording_proxy import RecordingProxy
from tests.utils.spans import RecordingExporter

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
CUSTOMER = 'query Customer { customer(id: "C-00001") { id salesRep { id } } }'


@pytest.fixture(scope="module")
def exporter() -> RecordingExporter:
    return RecordingExporter()


@pytest.fixture(scope="module")
def traced(exporter: RecordingExporter) -> Iterator[httpx.Client]:
    app = AppServer(create_app(load_settings({}), span_exporter=exporter))
    with app, httpx.Client(base_url=app.base_url) as http:
        yield http


@pytest.fixture
def spans(exporter: RecordingExporter) -> RecordingExporter:
    exporter.clear()
    return exporter


def _one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    [span] = [span for span in spans if span.name == name]
    return span


def _parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent else None


def test_a_query_is_a_tree_of_request_operation_and_store_calls_in_the_callers_trace(
    traced: httpx.Client, spans: RecordingExporter
) -> None:
    response = traced.post(
        "/graphql",
        json={"query": CUSTOMER},
        headers={"traceparent": TRACEPARENT, "X-Request-ID": "trace-me"},
    )
    assert response.json()["data"]["customer"]["id"] == "C-00001"
    finished = spans.wait_for("POST /graphql")
    request = _one(finished, "POST /graphql")
    operation = _one(finished, "query Customer")
    store = _one(finished, "customers_and_reps_by_ids memory")
    assert {span.context.trace_id for span in finished} == {int(TRACE_ID, 16)}
    assert _parent_of(request) == int(CALLER_SPAN, 16)
    assert (request.kind, _parent_of(operation), _parent_of(store)) == (
        SpanKind.SERVER,
        request.context.span_id,
        operation.context.span_id,
    )
    assert response.headers["traceresponse"] == f"00-{TRACE_ID}-{request.context.span_id:016x}-01"
    assert request.attributes is not None
    assert request.attributes["graphql_api.request_id"] == "trace-me"
    assert request.attributes["http.response.status_code"] == 200
    assert dict(operation.attributes or {}) == {
        "graphql.operation.type": "query",
        "graphql.operation.name": "Customer",
        "graphql_api.operation.cost": 2,
        "graphql_api.execution": "fast path",
        "graphql_api.fast_path": "answered",
    }
    assert dict(store.attributes or {}) == {
        "db.system": "memory",
        "db.operation": "customers_and_reps_by_ids",
        "graphql_api.store": "memory",
    }
    assert store.kind is SpanKind.CLIENT
    # Never values: the id the query asked for is in no span.
    for span in finished:
        assert "C-00001" not in repr(dict(span.attributes or {}))


def test_strawberrys_operations_and_rest_routes_are_traced_alike(
    traced: httpx.Client, spans: RecordingExporter
) -> None:
    # Introspection goes to strawberry from the start: no span for the fast path's refusal.
    mixed = "{ __schema { queryType { name } } customers(first: 3) { nodes { id } } }"
    assert traced.post("/graphql", json={"query": mixed}).status_code == 200
    finished = spans.wait_for("POST /graphql")
    [operation] = [span for span in finished if span.name == "query"]
    assert (operation.attributes or {})["graphql_api.execution"] == "strawberry"
    assert (operation.attributes or {})["graphql_api.operation.cost"] == 1 + 3 * (1 + 1)
    store = _one(finished, "customers_page memory")
    assert _parent_of(store) == operation.context.span_id
    spans.clear()
    assert traced.get("/customers/C-00001").status_code == 200
    finished = spans.wait_for("GET /customers/{customer_id}")
    # Named for the route, not the path with its id.
    request = _one(finished, "GET /customers/{customer_id}")
    assert (request.attributes or {})["http.route"] == "/customers/{customer_id}"
    assert _parent_of(_one(finished, "query RestGetCustomer")) == request.context.span_id


def test_a_fallback_to_dynamodb_shows_the_failed_call_the_event_and_the_breaker(
    moto: MotoServer,
) -> None:
    exporter = RecordingExporter()
    with RecordingProxy(moto.endpoint_url) as proxy:
        env = dynamodb_env(
            moto,
            DYNAMODB_ENDPOINT_URL=proxy.url,  # to moto, each request's headers kept
            RDS_ENDPOINT="127.0.0.1",
            RDS_PORT=str(free_port()),  # nothing listens: refused at once
            RDS_USERNAME="nobody",
            GRAPHQL_API_BREAKER_FAILURES="1",
            GRAPHQL_API_OUTBOX_RELAY="false",
        )
        app = AppServer(create_app(load_settings(env), span_exporter=exporter))
        with app, httpx.Client(base_url=app.base_url) as http:
            exporter.clear()
            body = http.post("/graphql", json={"query": CUSTOMER}).json()
    assert body["extensions"]["stores"] == {"used": ["DYNAMODB"], "degraded": True}
    finished = exporter.wait_for("POST /graphql")
    operation = _one(finished, "query Customer")
    failed = _one(finished, "customers_and_reps_by_ids mysql")
    served = _one(finished, "customers_and_reps_by_ids dynamodb")
    assert _parent_of(failed) == _parent_of(served) == operation.context.span_id
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "connection"
    assert (served.attributes or {})["db.system"] == "dynamodb"
    events = {event.name: dict(event.attributes or {}) for event in operation.events}
    assert events["breaker.transition"] == {
        "graphql_api.store": "mysql",
        "graphql_api.state": "open",
    }
    assert events["store.fallback"] == {
        "graphql_api.from_store": "mysql",
        "graphql_api.to_store": "dynamodb",
    }
    # The trace went on to DynamoDB: its request named the operation as its parent.
    trace_id = f"{operation.context.trace_id:032x}"
    passed_on = {h["traceparent"].rpartition("-")[0] for h in proxy.headers if "traceparent" in h}
    assert passed_on == {f"00-{trace_id}-{operation.context.span_id:016x}"}


def test_spans_reach_an_otlp_receiver_from_a_served_process() -> None:
    with OtlpReceiver() as receiver:
        env = {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_SERVICE_NAME": "graphql-api-e2e",
        }
        with ApiProcess(env=env, log_path=None) as api:
            answer = httpx.post(
                f"{api.base_url}/graphql",
                json={"query": CUSTOMER},
                headers={"traceparent": TRACEPARENT},
            )
            assert answer.status_code == 200
        # Stopping the server flushes the spans it still held.
        received = receiver.spans()
    mine = [(resource, span) for resource, span in received if span.trace_id.hex() == TRACE_ID]
    assert {span.name for _, span in mine} == {
        "POST /graphql",
        "query Customer",
        "customers_and_reps_by_ids memory",
    }
    assert {resource["service.name"] for resource, _ in mine} == {"graphql-api-e2e"}


def test_tracing_off_imports_no_tracing_code() -> None:
    """Off is free: no middleware, no wrapper, not even the modules."""
    program = (
        "import sys\n"
        "from graphql_api.app import create_app\n"
        "from graphql_api.settings import load_settings\n"
        "create_app(load_settings({}))\n"
        "prefixes = ('opentelemetry', 'graphql_api.tracing')\n"
        "loaded = [m for m in sys.modules if m.startswith(prefixes)]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True)
