"""Every GraphQL error leaves with a stable `extensions.code`.

Client mistakes keep their message and name the argument; a store outage says
STORE_UNAVAILABLE, a request past its timeout TIMEOUT; anything unexpected is
masked to INTERNAL with the request id, and logged by type and place only
(never its message, which may hold SQL, host names or customer data).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from graphql_api.errors import (
    FeedUnsupportedError,
    OverloadedError,
    RequestTimedOutError,
    ResumeWindowError,
    StoreFailedError,
    StoreUnavailableError,
    SubscriptionLimitError,
    UserInputError,
    raised_at,
)
from graphql_api.schema.limits import LIMIT_CODE

log = logging.getLogger("graphql_api.errors")

# graphql-core's hints ("Did you mean 'email'?") name fields, arguments, types
# and enum values: a map of the schema for whoever cannot introspect it.
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


class ErrorShaping(SchemaExtension):
    def __init__(self, *, hide_suggestions: bool = False) -> None:
        self._hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:
            self._shape(self.execution_context.result)

    def on_stream_result(self, result: object) -> Iterator[None]:
        # A subscription's messages leave one by one, before its operation ends.
        self._streamed = True
        self._shape(result)
        yield

    def _shape(self, result: object) -> None:
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            request_id = str(getattr(self.execution_context.context, "request_id", "unknown"))
            result.errors = [
                shape_error(error, request_id=request_id, hide_suggestions=self._hide_suggestions)
                for error in result.errors
            ]


def shape_error(
    error: GraphQLError, *, request_id: str, hide_suggestions: bool = False
) -> GraphQLError:
    """The error as the client sees it: a stable code, nothing a client should not read.

    Also used by the endpoint for what ends outside the schema's execution (the
    request timeout), so every error leaves in one shape.
    """
    original = error.original_error
    if original is None:
        # Parse, validation, limit and access errors: the message is about
        # the query itself. Their own extensions (a limit's name) stay.
        extensions = {"code": "GRAPHQL_VALIDATION_FAILED", **(error.extensions or {})}
        return _with(error, _told(error.message, hide_suggestions), extensions)
    if isinstance(original, GraphQLError):
        # graphql-core refusing a variable's value (wrong type, unknown enum
        # value): a mistake in the request, not a fault of the server.
        return _with(error, _told(error.message, hide_suggestions), {"code": "BAD_USER_INPUT"})
    if isinstance(original, UserInputError):
        return _with(
            error, original.message, {"code": "BAD_USER_INPUT", "argument": original.argument}
        )
    if isinstance(original, FeedUnsupportedError):
        return _with(error, original.message, {"code": "NOT_SUPPORTED"})
    if isinstance(original, SubscriptionLimitError):
        extensions = {"code": LIMIT_CODE, "limit": original.limit, "maximum": original.maximum}
        return _with(error, original.message, extensions)
    if isinstance(original, ResumeWindowError):
        extensions = {"code": "RESUME_WINDOW_EXCEEDED", "window": original.window}
        return _with(error, original.message, {**extensions, "behind": original.behind})
    if isinstance(original, StoreFailedError | StoreUnavailableError):
        log.warning("store unavailable request_id=%s: %s", request_id, original)
        return _with(
            error,
            "The data store is unavailable; try again shortly.",
            {"code": "STORE_UNAVAILABLE", "requestId": request_id},
        )
    if isinstance(original, OverloadedError):
        # Counted in the metrics by its code; a line per refusal would flood the
        # log at the moment it matters most.
        return _with(
            error,
            "The server is busy; try again in a second.",
            {"code": "OVERLOADED", "requestId": request_id},
        )
    if isinstance(original, RequestTimedOutError):
        log.warning("request timed out after %g s request_id=%s", original.timeout_s, request_id)
        return _with(error, original.message, {"code": "TIMEOUT", "requestId": request_id})
    log.error(
        "unexpected %s at %s request_id=%s",
        type(original).__name__,
        raised_at(original),
        request_id,
    )
    return _with(error, "Internal error.", {"code": "INTERNAL", "requestId": request_id})


def _told(message: str, hide_suggestions: bool) -> str:
    return _SUGGESTION.sub("", message) if hide_suggestions else message


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
