"""One record per HTTP request: its id, what ran, what failed; one JSON log line at the end.

The record lives in a context variable, so the middleware and the GraphQL view
below this one can note the errors they answer. The schema notes its operations
and error codes on the request's Context, which holds the record's own lists
(web/graphql_view.py get_context): the schema never imports this module.

The log line holds the request id, method, path, status, operation names,
duration, the stores used and whether the answer was degraded (both from the
fallback chain's StoreUsage, exactly what the response's extensions report),
and error codes: never headers, tokens, variables or the query text, which may
carry secrets or customer contact data.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.stores.usage import StoreUsage
from graphql_api.web.cache_control import not_stored
from graphql_api.web.compression import Compression
from graphql_api.web.error_body import error_body, send_json

log = logging.getLogger("graphql_api.access")
_errors_log = logging.getLogger("graphql_api.errors")

# A client's X-Request-ID is kept only when it is short and plain, so it can
# go into logs without escaping.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Probes and scrapes come every few seconds; they are logged at DEBUG only.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def request_id_from(given: str | None) -> str:
    """The client's X-Request-ID when it is plain enough to log, else a new one."""
    return given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    method: str
    path: str
    # The GraphQL view hands these two lists to the request's Context, where the
    # schema notes the operations that ran and the error codes they sent.
    operations: list[str] = field(default_factory=list)
    error_codes: list[str] = field(default_factory=list)
    # The chain's record of the stores that served this request (the same object
    # the response's extensions report); None until the GraphQL endpoint sets it.
    store_usage: StoreUsage | None = None
    status: int = 0
    # A REST route's operationId (openapi.json), set by the route: it names the
    # request in the log and the metrics, whatever operations it ran.
    route: str | None = None

    @property
    def degraded(self) -> bool:
        return self.store_usage is not None and self.store_usage.degraded

    @property
    def failed(self) -> bool:
        return bool(self.error_codes) or self.status >= 400

    def log_fields(self, *, seconds: float) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            # A client names its operations: a name is cut, a line is never a payload.
            "operations": [_capped(name) for name in self.operations],
            "duration_ms": round(seconds * 1000, 1),
            "stores": self.store_usage.used_names() if self.store_usage else [],
            "degraded": self.degraded,
            "outcome": "error" if self.failed else "ok",
            "error_codes": sorted(set(self.error_codes)),
            **({"route": self.route} if self.route else {}),
        }


_LOGGED_NAME_LENGTH = 64


def _capped(name: str) -> str:
    if len(name) <= _LOGGED_NAME_LENGTH:
        return name
    return f"{name[:_LOGGED_NAME_LENGTH]}...({len(name)} characters)"


_current: ContextVar[RequestRecord | None] = ContextVar("graphql_api_request", default=None)


def current_request() -> RequestRecord | None:
    return _current.get()


def error_for_request(
    message: str, extensions: Mapping[str, object], *, with_data: bool = True
) -> bytes:
    """The error body the HTTP layer answers for the current request: its code is noted
    on the request's record (access log, metrics), its id goes in the body."""
    record = current_request()
    if record is None:
        return error_body(message, extensions, request_id="unknown", with_data=with_data)
    record.error_codes.append(str(extensions["code"]))
    return error_body(message, extensions, request_id=record.request_id, with_data=with_data)


class RequestObserver(Protocol):
    """What the app counts per API request (GraphQL or REST) (graphql_api.web.metrics.Metrics)."""

    def request_started(self) -> None: ...

    def request_finished(self, record: RequestRecord, *, seconds: float) -> None: ...


class RequestObservation:
    """ASGI middleware: request id in and out, one log line, metrics, no bare 500s;
    and, where it already touches every response, `no-store` on API answers and
    compression (each defined in its own module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        observer: RequestObserver,
        is_api_path: Callable[[str], bool] = "/graphql".__eq__,
        compression: Compression | None = None,
    ) -> None:
        self._app = app
        self._observer = observer
        # GraphQL's and the REST routes' paths: the requests the metrics count,
        # whose answers are never stored (web/cache_control.py).
        self._is_api_path = is_api_path
        # Response bodies compressed for clients that accept it (web/compression.py).
        self._compression = compression

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        record = RequestRecord(
            request_id=request_id_from(headers.get("x-request-id")),
            method=scope["method"],
            path=scope["path"],
        )
        scope.setdefault("state", {})["request_id"] = record.request_id
        is_api = self._is_api_path(scope["path"])
        if self._compression is not None:
            send = self._compression.send_for(headers, send)
        started = time.perf_counter()
        token = _current.set(record)
        if is_api:
            self._observer.request_started()
        try:
            await self._serve(scope, receive, send, record, is_api=is_api)
        finally:
            _current.reset(token)
            seconds = time.perf_counter() - started
            if is_api:
                self._observer.request_finished(record, seconds=seconds)
            level = logging.DEBUG if scope["path"] in _QUIET_PATHS else logging.INFO
            log.log(level, "request", extra={"fields": record.log_fields(seconds=seconds)})

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, record: RequestRecord, *, is_api: bool
    ) -> None:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = record.request_id
                if is_api:
                    not_stored(headers)
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        except Exception as error:
            # Logged by type only: the message may hold SQL, hosts or data.
            _errors_log.error("unhandled %s", type(error).__name__)
            body = error_for_request("Internal error.", {"code": "INTERNAL"})
            if record.status:
                raise  # the response has begun; uvicorn closes the connection
            await send_json(send_with_id, 500, body)
