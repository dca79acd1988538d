"""A server span per API request, continuing the caller's W3C trace.

The span's parent is the `traceparent` (and `tracestate`) the request carries,
so the API's spans join the caller's trace; the response's `traceresponse`
header (W3C Trace Context Level 2) tells the caller the trace id and this span
even when it sent none. Named for the method and the route template
(`GET /customers/{customer_id}`), never a path with ids in it.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.tracing.setup import Tracing
from graphql_api.web.request_log import current_request


class RequestSpans:
    """ASGI middleware: one span per request to a path `is_api_path` names."""

    def __init__(
        self, app: ASGIApp, *, tracing: Tracing, is_api_path: Callable[[str], bool]
    ) -> None:
        self._app = app
        self._tracer = tracing.tracer
        self._propagator = tracing.propagator
        self._is_api_path = is_api_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_api_path(scope["path"]):
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        parent = self._propagator.extract(Headers(scope=scope))
        record = current_request()
        span = self._tracer.start_span(
            f"{method} {scope['path']}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": scope["path"],
                **({"graphql_api.request_id": record.request_id} if record else {}),
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        span_context = span.get_span_context()
        traceresponse = (
            f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}"
            f"-{span_context.trace_flags:02x}"
        )

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                MutableHeaders(scope=message)["traceresponse"] = traceresponse
            await send(message)

        try:
            await self._app(scope, receive, send_traced)
        except BaseException as error:
            # The type only: a message may hold SQL, hosts or data.
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            otel_context.detach(token)
            route = scope.get("route")
            template = getattr(route, "path", None)
            if isinstance(template, str):
                span.set_attribute("http.route", template)
                span.update_name(f"{method} {template}")
            span.end()
