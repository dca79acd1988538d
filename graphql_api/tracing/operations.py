"""A span per GraphQL operation: its type, name and cost (schema/limits.py's measure).

An operation runs on the fast path or in strawberry, so both get a span:

- strawberry: a schema extension around the operation, its span current while
  the resolvers (and the loaders' batches they start) run;
- the fast path: its `execute`, wrapped. Its span is made when first needed (a
  store call, a fallback) or when it answers, with the time it began, so an
  operation the fast path declines at once leaves no span behind; one it hands
  on after reading leaves its span (`graphql_api.fast_path: handed_on`) beside
  strawberry's.

Both are added to an Execution by `OperationSpans.instrument`, without either
executor knowing about tracing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from functools import partial
from typing import Any

from graphql import DocumentNode, GraphQLError, get_operation_ast, parse
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context as OtelContext
from opentelemetry.trace import Span, Status, StatusCode, Tracer
from strawberry.extensions import SchemaExtension

from graphql_api.context import Context
from graphql_api.fastpath import FastAnswer, FastPath
from graphql_api.schema.limits import measure_operation
from graphql_api.text_cache import TextCache
from graphql_api.web.execution import Execution

# Documents the fast path answered, parsed once more for their span's name and cost.
_PARSED_DOCUMENTS = 256
_PARSED_TEXT = 1_000_000


class OperationSpans:
    def __init__(self, tracer: Tracer, schema: Any) -> None:
        self.tracer = tracer
        self._schema = schema._schema  # graphql-core's, which the measure walks
        self._documents: TextCache[DocumentNode] = TextCache(
            max_entries=_PARSED_DOCUMENTS, max_text=_PARSED_TEXT
        )

    def instrument(self, execution: Execution) -> None:
        if execution.fast_path is not None:
            execution.fast_path = _TracedFastPath(execution.fast_path, spans=self)
        execution.schema.extensions = (
            *execution.schema.extensions,
            partial(_StrawberryOperationSpan, spans=self),
        )

    def describe(
        self,
        span: Span,
        document: DocumentNode | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> None:
        """Names the span for its operation (`query CustomerPage`) and sets its attributes."""
        if document is None:
            return
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return
        kind = operation.operation.value
        name = operation.name.value if operation.name else None
        span.update_name(f"{kind} {name}" if name else kind)
        span.set_attribute("graphql.operation.type", kind)
        if name:
            span.set_attribute("graphql.operation.name", name)
        measure = measure_operation(
            self._schema, document, operation_name=operation_name, variables=variables
        )
        if measure is not None:
            span.set_attribute("graphql_api.operation.cost", measure.cost)

    def parsed(self, query: str) -> DocumentNode | None:
        document = self._documents.get(query)
        if document is None:
            try:
                document = parse(query)
            except GraphQLError:
                return None
            self._documents.put(query, document)
        return document


class _PendingOperation:
    """The fast path's operation span, made when first asked for."""

    __slots__ = ("_made", "_spans", "_started_ns")

    def __init__(self, spans: OperationSpans) -> None:
        self._spans = spans
        self._started_ns = time.time_ns()
        self._made: Span | None = None

    @property
    def made(self) -> Span | None:
        return self._made

    def span(self) -> Span:
        if self._made is None:
            self._made = self._spans.tracer.start_span(
                "graphql operation",
                start_time=self._started_ns,
                attributes={"graphql_api.execution": "fast path"},
            )
        return self._made


# The fast path's operation in flight; asyncio copies it into the loaders' tasks.
_pending: ContextVar[_PendingOperation | None] = ContextVar(
    "graphql_api_pending_operation", default=None
)


def current_operation_context() -> OtelContext | None:
    """The context store spans and events belong to: the fast path's operation
    when one runs, else None (OpenTelemetry's current span: strawberry's operation)."""
    pending = _pending.get()
    return None if pending is None else trace.set_span_in_context(pending.span())


class _TracedFastPath(FastPath):
    """The app's fast path, each execution in an operation span. Only `execute` is
    called from outside; it hands every call to the fast path it wraps."""

    def __init__(self, inner: FastPath, *, spans: OperationSpans) -> None:
        self._inner = inner
        self._spans = spans

    async def execute(
        self,
        *,
        query: str | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        context: Context,
        mutations: bool = True,
    ) -> FastAnswer | None:
        pending = _PendingOperation(self._spans)
        token = _pending.set(pending)
        answer = None
        outcome = "stopped"  # cancelled: the request's time ran out
        try:
            answer = await self._inner.execute(
                query=query,
                operation_name=operation_name,
                variables=variables,
                context=context,
                mutations=mutations,
            )
            outcome = "answered" if answer is not None else "handed_on"
        finally:
            _pending.reset(token)
            span = pending.span() if answer is not None else pending.made
            if span is not None:
                span.set_attribute("graphql_api.fast_path", outcome)
                if query is not None:
                    document = self._spans.parsed(query)
                    self._spans.describe(span, document, operation_name, variables)
                span.end()
        return answer


class _StrawberryOperationSpan(SchemaExtension):
    def __init__(self, *, spans: OperationSpans) -> None:
        self._spans = spans

    def on_operation(self) -> Iterator[None]:
        span = self._spans.tracer.start_span(
            "graphql operation", attributes={"graphql_api.execution": "strawberry"}
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield
        finally:
            otel_context.detach(token)
            execution = self.execution_context
            self._spans.describe(
                span, execution.graphql_document, execution.operation_name, execution.variables
            )
            errors = execution.result.errors if execution.result is not None else None
            if errors:
                codes = sorted({str((e.extensions or {}).get("code", "INTERNAL")) for e in errors})
                span.set_attribute("graphql_api.error_codes", codes)
                span.set_status(Status(StatusCode.ERROR, ", ".join(codes)))
            span.end()
