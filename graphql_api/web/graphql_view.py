"""The GraphQL HTTP endpoint: strawberry's view, the request's Context, and the guards.

Who is asking, how many operations, how long:

- authentication happens in get_context, which strawberry calls before it
  reads the body, so a request without a valid token is refused (401,
  UNAUTHENTICATED) before anything is parsed, validated or read;
- a batch over the limit is refused before any of its operations runs;
- the operations of one request run within the request timeout (TIMEOUT, shaped
  by schema/error_shaping.py like every other error);
- strawberry's own HTTP refusals (bad JSON, no query, wrong method) become
  GraphQL-shaped JSON with a code and the request id instead of plain text.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData, process_result
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graphql_api.context import Context
from graphql_api.errors import RequestTimedOutError
from graphql_api.fastpath import FastPath
from graphql_api.loaders import create_loaders
from graphql_api.principal import AUTH_OFF, Principal
from graphql_api.resources import Resources
from graphql_api.schema import build_schema
from graphql_api.schema.error_shaping import shape_error
from graphql_api.schema.limits import LIMIT_CODE
from graphql_api.schema.source_report import stores_extension
from graphql_api.settings import Settings
from graphql_api.stores.fair_gate import current_caller
from graphql_api.stores.usage import StoreUsage
from graphql_api.web.admission import Admission, AdmissionObserver
from graphql_api.web.auth import AuthenticationFailed, Authenticator
from graphql_api.web.json_body import encode_json
from graphql_api.web.request_body import (
    check_body,
    check_text,
    decode_json,
    may_hold_lone_surrogates,
)
from graphql_api.web.request_log import (
    RequestRecord,
    current_request,
    error_for_request,
    request_id_from,
)

log = logging.getLogger("graphql_api.web.graphql_view")


class Unauthenticated(Exception):
    def __init__(self, failure: AuthenticationFailed) -> None:
        super().__init__(failure.message)
        self.failure = failure


class _NotAdmitted(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# The request state key holding the caller admitted for this request.
_ADMITTED = "admitted_caller"


def error_response(
    status: int, message: str, extensions: dict[str, object], headers: dict[str, str] | None = None
) -> Response:
    body = error_for_request(message, extensions)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def request_id_of(request: Request) -> str:
    """The id RequestObservation chose for this request (the client's, if plain)."""
    chosen = request.scope.get("state", {}).get("request_id")
    return str(chosen) if chosen else request_id_from(request.headers.get("x-request-id"))


def _log_auth(settings: Settings, authenticator: Authenticator | None) -> None:
    if authenticator is None or settings.auth is None:
        log.warning(
            "authentication is OFF (development): every request may query and mutate,"
            " and changes record no actor"
        )
        return
    log.info(
        "authentication: bearer JWT %s, issuer %s, audience %s, roles claim %r",
        authenticator.algorithm,
        settings.auth.issuer or "not checked",
        settings.auth.audience or "not checked",
        settings.auth.roles_claim,
    )


class GraphQLView(GraphQL[Context, None]):
    """The one GraphQL endpoint: strawberry's view with this service's guards."""

    def __init__(
        self,
        settings: Settings,
        *,
        report_fast_path: Callable[[str], None] | None = None,
        admission_observer: AdmissionObserver | None = None,
    ) -> None:
        authenticator = Authenticator(settings.auth) if settings.auth is not None else None
        _log_auth(settings, authenticator)
        # No strawberry page: it loads GraphiQL from a CDN. web/graphiql.py serves ours.
        schema = build_schema(limits=settings.limits, production=settings.is_production)
        super().__init__(schema, graphql_ide=None)
        self._fast_path = (
            FastPath(
                schema,
                limits=settings.limits,
                max_page_size=settings.max_page_size,
                report=report_fast_path or (lambda outcome: None),
            )
            if settings.fast_path
            else None
        )
        self._settings = settings
        self._limits = settings.limits
        self._authenticator = authenticator
        self._admission = Admission(
            total=settings.limits.max_in_flight,
            per_caller=settings.limits.max_in_flight_per_caller,
            observer=admission_observer,
        )

    async def get_context(self, request: Request, response: Response | None = None) -> Context:  # type: ignore[override]
        principal = self.principal_of(request)
        self._admit(request, principal)
        resources: Resources = request.app.state.resources
        # What the request did is noted once, on objects the Context and the
        # request's record share: the chain fills the StoreUsage (the response's
        # extensions report it), the schema notes operations and error codes, and
        # the access log and the metrics read all three from the record.
        record = current_request() or RequestRecord(
            request_id_of(request), request.method, request.url.path
        )
        usage = record.store_usage = StoreUsage()
        stores = resources.stores.for_request(usage)
        return Context(
            loaders=create_loaders(stores),
            writer=stores,
            settings=self._settings,
            request_id=record.request_id,
            store_usage=usage,
            actor=principal.subject,
            principal=principal,
            operations=record.operations,
            error_codes=record.error_codes,
        )

    def _admit(self, request: Request, principal: Principal) -> None:
        """Takes a slot for this request (run() gives it back), or refuses it."""
        state = request.scope.setdefault("state", {})
        if _ADMITTED in state:
            return
        # Without auth every caller is AUTH_OFF: the address tells them apart.
        caller = principal.subject or (request.client.host if request.client else "unknown")
        refused = self._admission.enter(caller)
        if refused is not None:
            raise _NotAdmitted(refused)
        state[_ADMITTED] = caller
        # The stores take turns at their connections by caller (stores/fair_gate.py).
        current_caller.set(caller)

    def principal_of(self, request: Request) -> Principal:
        """The caller; raises Unauthenticated (answered with 401) when the token is not good."""
        if self._authenticator is None:
            return AUTH_OFF
        given = request.headers.getlist("authorization")
        if len(given) > 1:
            # A proxy that reads another of them than we do would disagree on who asks.
            raise HTTPException(400, "Send one Authorization header, not several.")
        outcome = self._authenticator.authenticate(given[0] if given else None)
        if isinstance(outcome, AuthenticationFailed):
            raise Unauthenticated(outcome)
        return outcome

    async def run(  # type: ignore[override]
        self, request: Request, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response:
        try:
            return await self._run(request, context, root_value)
        finally:
            caller = request.scope.get("state", {}).pop(_ADMITTED, None)
            if caller is not None:
                self._admission.leave(caller)

    async def _run(self, request: Request, context: Any, root_value: Any) -> Response:
        try:
            if self._fast_path is not None and context is UNSET and self._plain_post(request):
                # Authenticates first (get_context), then reads the body.
                context = await self.get_context(request)
                answered = await self._answer_fast(request, context)
                if answered is not None:
                    return answered
            return await super().run(request, context, root_value)
        except Unauthenticated as refused:
            return error_response(
                401,
                refused.failure.message,
                {"code": "UNAUTHENTICATED"},
                headers={"WWW-Authenticate": "Bearer"},
            )
        except _NotAdmitted as refused:
            return error_response(
                503,
                "The server is busy; try again in a second.",
                {"code": "OVERLOADED", "reason": refused.reason},
                headers={"Retry-After": "1"},
            )
        except _BatchTooLarge as refused:
            extensions = {
                "code": LIMIT_CODE,
                "limit": "batch",
                "maximum": refused.limit,
                "actual": refused.actual,
            }
            return error_response(400, refused.reason, extensions)
        except HTTPException as refused:
            return error_response(refused.status_code, refused.reason, {"code": "BAD_REQUEST"})

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """A query the fast path covers is answered there; the rest, and
        whatever it hands back, by strawberry (graphql_api/fastpath/)."""
        tried = request.scope.get("state", {}).get("fast_path_tried", False)
        if self._fast_path is not None and not tried and request_data.protocol == "http":
            answer = await self._fast_path.execute(
                query=request_data.query,
                operation_name=request_data.operation_name,
                variables=request_data.variables,
                context=context,
                # A batch runs its operations concurrently on one context; a
                # mutation's outcome kept for a hand-on could reach another's.
                mutations=request_adapter.method == "POST"
                and not request.scope.get("state", {}).get("graphql_batch", False),
            )
            if answer is not None:
                context.operations.append(answer.operation_name or "anonymous")
                return ExecutionResult(data=answer.data, errors=None, extensions=answer.extensions)
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    def parse_json(self, data: str | bytes) -> Any:
        return decode_json(data, "The request body")

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        """A GET's parameters; `variables` and `extensions` are JSON text."""
        parsed = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                parsed[name] = decode_json(parsed[name], f"`{name}`")
        return parsed

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            # Exactly application/json (strawberry takes any type that contains
            # it, `application/jsonx` too), and a body GraphQL over HTTP allows.
            if not _is_json(request.content_type):
                raise HTTPException(415, "Send the operation as application/json.")
            body = await request.get_body()
            data = self.parse_json(body)
            check_body(data)
            if may_hold_lone_surrogates(body):
                check_text(data)
        data = await super().parse_http_body(request)
        limit = self._limits.max_batch_operations
        if isinstance(data, list) and len(data) > limit:
            raise _BatchTooLarge(limit, len(data))
        return data

    def encode_json(self, data: object) -> bytes:
        return encode_json(data)

    def _plain_post(self, request: Request) -> bool:
        """A JSON POST without a streaming Accept: what the fast path may take."""
        if request.method != "POST":
            return False
        if not _is_json(request.headers.get("content-type")):
            return False
        # Only Accept matters; a one-entry dict spares strawberry's scan of every header.
        accept = {"accept": request.headers.get("accept", "")}
        return self._get_stream_transport_from_headers(accept) is None

    async def _answer_fast(self, request: Request, context: Context) -> Response | None:
        """The fast path's response, or None: strawberry reads the request again
        (the body is cached) and answers it with the same context."""
        assert self._fast_path is not None
        body = await request.body()
        if may_hold_lone_surrogates(body):
            return None  # strawberry's path checks the text: 400 if one is alone
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return None  # strawberry's path answers it: 400
        if not isinstance(data, dict):
            return None
        query = data.get("query")
        variables = data.get("variables")
        operation_name = data.get("operationName")
        if not (
            isinstance(query, str)
            and isinstance(variables, dict | None)
            and isinstance(operation_name, str | None)
            and isinstance(data.get("extensions"), dict | None)
        ):
            return None
        deadline = _deadline(request, self._limits.request_timeout_s)
        # Tried once per request: execute_single does not try it again.
        request.scope.setdefault("state", {})["fast_path_tried"] = True
        try:
            async with asyncio.timeout_at(deadline):
                answer = await self._fast_path.execute(
                    query=query,
                    operation_name=operation_name,
                    variables=variables,
                    context=context,
                )
        except TimeoutError:
            context.error_codes.append("TIMEOUT")
            result = _timed_out(self._limits.request_timeout_s, context)
            sub_response = await self.get_sub_response(request)
            return self.create_response(process_result(result), sub_response)
        if answer is None:
            return None
        context.operations.append(answer.operation_name or "anonymous")
        response = {"data": answer.data, "extensions": answer.extensions}
        return Response(self.encode_json(response), media_type="application/json")

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """All operations of one request within GRAPHQL_API_REQUEST_TIMEOUT: a stalled
        store or a slow resolver ends in a TIMEOUT error, never a hanging request.
        The time the fast path spent on a request it handed on counts too."""
        timeout_s = self._limits.request_timeout_s
        request: Request = kwargs["request"]
        if isinstance(kwargs["request_data"], list):
            request.scope.setdefault("state", {})["graphql_batch"] = True
        try:
            async with asyncio.timeout_at(_deadline(request, timeout_s)):
                return await super().execute_operation(*args, **kwargs)
        except TimeoutError:
            request_data = kwargs["request_data"]
            context: Context = kwargs["context"]
            count = len(request_data) if isinstance(request_data, list) else 1
            results = [_timed_out(timeout_s, context) for _ in range(count)]
            context.error_codes.extend(["TIMEOUT"] * count)
            return results if isinstance(request_data, list) else results[0]


def _is_json(content_type: str | None) -> bool:
    """Whether a Content-Type is exactly application/json (parameters aside)."""
    return (content_type or "").partition(";")[0].strip().lower() == "application/json"


def _deadline(request: Request, timeout_s: float) -> float:
    """The request's one deadline (loop time), set when first asked for."""
    state = request.scope.setdefault("state", {})
    deadline = state.get("graphql_deadline")
    if deadline is None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        state["graphql_deadline"] = deadline
    return float(deadline)


def _timed_out(timeout_s: float, context: Context) -> ExecutionResult:
    """What a stopped operation answers: the TIMEOUT error, shaped like every other
    error, and the stores that served it so far (a timed-out part is degraded)."""
    timed_out = RequestTimedOutError(timeout_s)
    error = shape_error(
        GraphQLError(timed_out.message, original_error=timed_out), request_id=context.request_id
    )
    context.store_usage.unanswered()
    return ExecutionResult(
        data=None, errors=[error], extensions=stores_extension(context.store_usage)
    )


class _BatchTooLarge(HTTPException):
    def __init__(self, limit: int, actual: int) -> None:
        super().__init__(
            400, f"A batch may hold at most {limit} operations; this one holds {actual}."
        )
        self.limit = limit
        self.actual = actual
