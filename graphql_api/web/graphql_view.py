"""The GraphQL HTTP endpoint: strawberry's view over the app's shared Execution.

The token, admission, the request's Context, the deadline and the fast path
are web/execution.py's, shared with the REST routes (web/rest/). Here, what is
GraphQL over HTTP's own:

- authentication happens in get_context, which strawberry calls before it
  reads the body, so a request without a valid token is refused (401,
  UNAUTHENTICATED) before anything is parsed, validated or read;
- a batch over the limit is refused before any of its operations runs;
- the operations of one request run within the request timeout (TIMEOUT, shaped
  by schema/error_shaping.py like every other error);
- strawberry's own HTTP refusals (bad JSON, no query, wrong method) become
  GraphQL-shaped JSON with a code and the request id instead of plain text;
- the answer is application/json, or application/graphql-response+json when
  the client asks for it, with a request error's 4xx (web/media_types.py).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from graphql_api.context import Context
from graphql_api.principal import Principal
from graphql_api.schema.limits import LIMIT_CODE
from graphql_api.web.execution import Execution, NotAdmitted, Unauthenticated, timed_out
from graphql_api.web.graphiql import is_page_request
from graphql_api.web.json_body import encode_json
from graphql_api.web.media_types import JSON, request_error_status, response_media_type
from graphql_api.web.request_body import (
    check_body,
    check_text,
    decode_json,
    may_hold_lone_surrogates,
)
from graphql_api.web.request_log import error_for_request
from graphql_api.web.trusted_documents import DocumentRefused


def error_response(
    status: int,
    message: str,
    extensions: dict[str, object],
    headers: dict[str, str] | None = None,
    *,
    media_type: str = JSON,
) -> Response:
    body = error_for_request(message, extensions, with_data=media_type == JSON)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


# Request state keys: the media type this request is answered in, and the
# status of an answer that is a request error (when that type says so).
_MEDIA_TYPE = "response_media_type"
_REQUEST_ERROR_STATUS = "request_error_status"


def _media_type_of(request: Request) -> str:
    state = request.scope.setdefault("state", {})
    media_type = state.get(_MEDIA_TYPE)
    if media_type is None:
        media_type = state[_MEDIA_TYPE] = response_media_type(request.headers.get("accept"))
    return str(media_type)


class GraphQLView(GraphQL[Context, None]):
    """The one GraphQL endpoint: strawberry's view over the app's shared Execution."""

    def __init__(self, execution: Execution) -> None:
        # No strawberry page: it loads GraphiQL from a CDN. web/graphiql.py serves ours.
        super().__init__(execution.schema, graphql_ide=None)
        self._execution = execution
        self._fast_path = execution.fast_path
        self._limits = execution.limits
        self._documents = execution.documents

    async def get_context(self, request: Request, response: Response | None = None) -> Context:  # type: ignore[override]
        principal = await self.principal_of(request)
        self._execution.admit(request, principal)
        return self._execution.context_for(request, principal)

    async def principal_of(self, request: Request) -> Principal:
        """The caller; raises Unauthenticated (answered with 401) when the token is not good."""
        return await self._execution.principal_of(request)

    async def run(  # type: ignore[override]
        self, request: Request, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response:
        try:
            return await self._run(request, context, root_value)
        finally:
            self._execution.release(request)

    async def _run(self, request: Request, context: Any, root_value: Any) -> Response:
        media_type = _media_type_of(request)
        try:
            if self._fast_path is not None and context is UNSET and self._plain_post(request):
                # Authenticates first (get_context), then reads the body.
                context = await self.get_context(request)
                answered = await self._answer_fast(request, context)
                if answered is not None:
                    return answered
            response = await super().run(request, context, root_value)
        except Unauthenticated as refused:
            return error_response(
                401,
                refused.failure.message,
                {"code": "UNAUTHENTICATED"},
                headers={"WWW-Authenticate": "Bearer"},
                media_type=media_type,
            )
        except NotAdmitted as refused:
            return error_response(
                503,
                "The server is busy; try again in a second.",
                {"code": "OVERLOADED", "reason": refused.reason},
                headers={"Retry-After": "1"},
                media_type=media_type,
            )
        except _BatchTooLarge as refused:
            extensions = {
                "code": LIMIT_CODE,
                "limit": "batch",
                "maximum": refused.limit,
                "actual": refused.actual,
            }
            return error_response(400, refused.reason, extensions, media_type=media_type)
        except HTTPException as refused:
            return error_response(
                refused.status_code, refused.reason, {"code": "BAD_REQUEST"}, media_type=media_type
            )
        except DocumentRefused as refused:
            # APQ's "send the text" is a GraphQL error, 200 in application/json
            # as Apollo's clients read it; every other refusal is the client's 400.
            status = 200 if refused.missing and media_type == JSON else 400
            return error_response(
                status, refused.message, {"code": refused.code}, media_type=media_type
            )
        if media_type != JSON and response.media_type == JSON:
            response.headers["content-type"] = media_type
            status = request.scope["state"].get(_REQUEST_ERROR_STATUS)
            if status is not None:
                response.status_code = status
        return response

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

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """In application/graphql-response+json, a request error has no `data`
        and its 4xx status; a batch's items are shaped so, the batch is 200."""
        processed = await super().process_result(request, result)
        if _media_type_of(request) == JSON:
            return processed
        status = request_error_status(result.data, result.errors)
        if status is not None:
            processed.pop("data", None)
            state = request.scope["state"]
            if not state.get("graphql_batch", False):
                state[_REQUEST_ERROR_STATUS] = status
        return processed

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Strawberry's test takes a GET of a document by hash for a browser.
        accept = request.headers.get("accept", "")
        return is_page_request(request.method, request.query_params, accept)

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
            given = self.parse_json(body)
            check_body(given)
            if may_hold_lone_surrogates(body):
                check_text(given)
        else:
            given = dict(request.query_params)
        data = await super().parse_http_body(request)
        limit = self._limits.max_batch_operations
        if isinstance(data, list) and len(data) > limit:
            raise _BatchTooLarge(limit, len(data))
        # A document named by hash becomes its text (web/trusted_documents.py).
        if isinstance(data, list):
            return [self._with_document(item, raw) for item, raw in zip(data, given, strict=True)]
        return self._with_document(data, given)

    def _with_document(self, data: GraphQLRequestData, given: dict[str, Any]) -> GraphQLRequestData:
        query = self._documents.document(data.query, data.extensions, given.get("documentId"))
        return data if query is data.query else replace(data, query=query)

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
        given = data.get("query")
        if not isinstance(given, str | None):
            return None
        try:
            query = self._documents.document(given, data.get("extensions"), data.get("documentId"))
        except DocumentRefused:
            return None  # strawberry's path refuses it
        variables = data.get("variables")
        operation_name = data.get("operationName")
        if not (
            isinstance(query, str)
            and isinstance(variables, dict | None)
            and isinstance(operation_name, str | None)
            and isinstance(data.get("extensions"), dict | None)
        ):
            return None
        deadline = self._execution.deadline(request)
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
            result = timed_out(self._limits.request_timeout_s, context)
            sub_response = await self.get_sub_response(request)
            return self.create_response(process_result(result), sub_response)
        if answer is None:
            return None
        context.operations.append(answer.operation_name or "anonymous")
        response = {"data": answer.data, "extensions": answer.extensions}
        return Response(self.encode_json(response), media_type=_media_type_of(request))

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """All operations of one request within GRAPHQL_API_REQUEST_TIMEOUT: a stalled
        store or a slow resolver ends in a TIMEOUT error, never a hanging request.
        The time the fast path spent on a request it handed on counts too."""
        timeout_s = self._limits.request_timeout_s
        request: Request = kwargs["request"]
        if isinstance(kwargs["request_data"], list):
            request.scope.setdefault("state", {})["graphql_batch"] = True
        try:
            async with asyncio.timeout_at(self._execution.deadline(request)):
                return await super().execute_operation(*args, **kwargs)
        except TimeoutError:
            request_data = kwargs["request_data"]
            context: Context = kwargs["context"]
            count = len(request_data) if isinstance(request_data, list) else 1
            results = [timed_out(timeout_s, context) for _ in range(count)]
            context.error_codes.extend(["TIMEOUT"] * count)
            return results if isinstance(request_data, list) else results[0]


def _is_json(content_type: str | None) -> bool:
    """Whether a Content-Type is exactly application/json (parameters aside)."""
    return (content_type or "").partition(";")[0].strip().lower() == "application/json"


class _BatchTooLarge(HTTPException):
    def __init__(self, limit: int, actual: int) -> None:
        super().__init__(
            400, f"A batch may hold at most {limit} operations; this one holds {actual}."
        )
        self.limit = limit
        self.actual = actual
