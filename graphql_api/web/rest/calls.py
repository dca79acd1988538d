"""A REST request's way through the shared execution core, and its refusals as problems.

Every route runs inside `rest_endpoint`: the token first (401 before the body
is read), then admission (the same in-flight bounds as GraphQL requests), then
the handler, which runs stored operations through `Execution.run` (the fast
path, else strawberry, within the request timeout). GraphQL errors and typed
failures leave as problem details with the same codes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response

from graphql_api.context import Context
from graphql_api.errors import (
    OverloadedError,
    StoreFailedError,
    StoreUnavailableError,
    raised_at,
)
from graphql_api.web.execution import Execution, NotAdmitted, Unauthenticated
from graphql_api.web.request_log import current_request
from graphql_api.web.rest.documents import DOCUMENTS
from graphql_api.web.rest.problems import Problem, problem_response, unavailable

log = logging.getLogger("graphql_api.web.rest")

_BUSY = "The server is busy; try again in a second."
_STORE_DOWN = "The data store is unavailable; try again shortly."


@dataclass(slots=True)
class Call:
    """One REST request: its Context, and the stored operations it runs on it."""

    request: Request
    context: Context
    execution: Execution
    # extensions.stores of the last operation run: which stores served it.
    stores: dict[str, Any] = field(default_factory=dict)

    async def run(
        self,
        operation_name: str,
        variables: Mapping[str, Any],
        *,
        arguments: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The operation's data; an error becomes a problem. `arguments` names
        the request's field for a GraphQL argument the client chose (`after` -> `cursor`)."""
        result = await self.execution.run(
            self.request,
            self.context,
            document=DOCUMENTS[operation_name],
            operation_name=operation_name,
            variables=variables,
        )
        self.stores = dict((result.extensions or {}).get("stores", {}))
        if result.errors:
            raise self._problem(result.errors[0], arguments or {})
        assert result.data is not None
        return result.data

    def _problem(self, error: GraphQLError, arguments: Mapping[str, str]) -> Problem:
        extensions = error.extensions or {}
        code = str(extensions.get("code", "INTERNAL"))
        if code == "BAD_USER_INPUT" and extensions.get("argument") in arguments:
            argument = str(extensions["argument"])
            named = arguments[argument]
            detail = named + error.message.removeprefix(argument)
            return Problem("VALIDATION", detail, members={"field": named})
        if code == "FORBIDDEN":
            return Problem("FORBIDDEN", error.message)
        if code == "STORE_UNAVAILABLE":
            return self.store_down()
        if code in ("OVERLOADED", "TIMEOUT"):
            return unavailable(code, error.message, retry_after_s=1)
        # A stored operation the schema refuses, or a masked failure: our fault.
        return Problem("INTERNAL", "Internal error.")

    def store_down(self) -> Problem:
        cooldown = self.execution.settings.resilience.breaker_cooldown_s
        return unavailable("STORE_UNAVAILABLE", _STORE_DOWN, retry_after_s=cooldown)


Handler = Callable[[Call], Awaitable[Response]]


def rest_endpoint(
    execution: Execution, handlers: Mapping[str, tuple[str, Handler]]
) -> Callable[[Request], Awaitable[Response]]:
    """One path's endpoint: `handlers` by method, each with its route's operationId."""

    async def endpoint(request: Request) -> Response:
        # Starlette answers HEAD with the GET route, without the body.
        route, handler = handlers["GET" if request.method == "HEAD" else request.method]
        record = current_request()
        if record is not None:
            record.route = route
        try:
            return await _guarded(execution, handler, request)
        except Problem as problem:
            return problem_response(problem)

    return endpoint


async def _guarded(execution: Execution, handler: Handler, request: Request) -> Response:
    """The handler's answer, each refusal on the way raised as a Problem."""
    try:
        principal = await execution.principal_of(request)
    except Unauthenticated as refused:
        raise Problem(
            "UNAUTHENTICATED", refused.failure.message, headers={"WWW-Authenticate": "Bearer"}
        ) from None
    except HTTPException as refused:
        raise Problem("BAD_REQUEST", refused.reason) from None
    try:
        execution.admit(request, principal)
    except NotAdmitted as refused:
        problem = unavailable("OVERLOADED", _BUSY, retry_after_s=1)
        problem.members["reason"] = refused.reason
        raise problem from None
    try:
        call = Call(request, execution.context_for(request, principal), execution)
        return await _answered(call, handler)
    finally:
        execution.release(request)


async def _answered(call: Call, handler: Handler) -> Response:
    """Failures outside the GraphQL execution (idempotency keys' store) as problems."""
    try:
        return await handler(call)
    except Problem:
        raise
    except (StoreFailedError, StoreUnavailableError) as failure:
        log.warning("store unavailable request_id=%s: %s", call.context.request_id, failure)
        raise call.store_down() from None
    except OverloadedError:
        raise unavailable("OVERLOADED", _BUSY, retry_after_s=1) from None
    except Exception as error:
        # Logged by type and place only: the message may hold SQL, hosts or data.
        log.error(
            "unexpected %s at %s request_id=%s",
            type(error).__name__,
            raised_at(error),
            call.context.request_id,
        )
        raise Problem("INTERNAL", "Internal error.") from None
