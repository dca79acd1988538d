"""The tracer provider and what the app adds to itself when tracing is on.

The exporter is OTLP over HTTP, configured by the standard variables, which
the SDK reads itself (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT,
..._HEADERS, ..._TIMEOUT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER, OTEL_BSP_*). No global provider is set: each app owns its
own, so tests can run several side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from graphql_api.stores.observer import StoreObserver
from graphql_api.tracing.operations import OperationSpans, current_operation_context
from graphql_api.tracing.stores import TracingObserver
from graphql_api.web.execution import Execution

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest
    from types_aiobotocore_dynamodb.client import DynamoDBClient

_SERVICE = "graphql-api"


def _resource() -> Resource:
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: _SERVICE}))
    return resource


class Tracing:
    """One app's tracer; `start` in the lifespan adds the exporter, `shutdown` flushes it."""

    def __init__(self, *, exporter: SpanExporter | None = None) -> None:
        # A given exporter (the tests' in-memory one) gets each span as it ends.
        self._given = exporter
        self.provider = TracerProvider(resource=_resource(), shutdown_on_exit=False)
        self.tracer: Tracer = self.provider.get_tracer("graphql_api")
        # W3C Trace Context: `traceparent` and `tracestate`.
        self.propagator: TextMapPropagator = TraceContextTextMapPropagator()
        self._operations: OperationSpans | None = None

    def instrument(self, execution: Execution) -> None:
        """Operation spans around the fast path's and strawberry's executions."""
        self._operations = OperationSpans(self.tracer, execution.schema)
        self._operations.instrument(execution)

    def propagate_to(self, client: DynamoDBClient) -> None:
        """Every DynamoDB request carries the trace on (`traceparent`, `tracestate`),
        its parent the operation that made it. Added after signing: SigV4 checks only
        the headers it signed."""
        propagator = self.propagator

        def inject(request: AWSPreparedRequest, **_: Any) -> None:
            propagator.inject(request.headers, context=current_operation_context())

        client.meta.events.register("before-send.dynamodb", inject)

    def observer(self, inner: StoreObserver) -> StoreObserver:
        """`inner` told everything as before, and each store call a span."""
        return TracingObserver(inner, tracer=self.tracer)

    def start(self) -> None:
        processor: SpanProcessor
        if self._given is not None:
            processor = SimpleSpanProcessor(self._given)
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            processor = BatchSpanProcessor(OTLPSpanExporter())
        self.provider.add_span_processor(processor)

    def shutdown(self) -> None:
        self.provider.shutdown()
