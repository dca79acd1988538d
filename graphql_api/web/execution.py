"""What every API request goes through, GraphQL or REST: one execution core.

The GraphQL view (web/graphql_view.py) and the REST routes (web/rest/) share
one `Execution`, so both have the same guards in the same order and the same
data path:

- who asks: the bearer token, checked before any body is read (`principal_of`);
- admission: the in-flight bounds of this worker, in all and per caller, one
  count for both kinds of request (`admit`, `release`);
- the request's Context: per-request loaders over the store chain, the store
  usage, operations and error codes the access log and metrics read
  (`context_for`);
- an operation run within the request timeout: the fast path first, strawberry
  (the reference) for what it declines or hands on (`run`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from strawberry.types import ExecutionResult

from graphql_api.context import Context
from graphql_api.contract.manifest import read_manifest
from graphql_api.errors import ConfigError, ContractSourceError, RequestTimedOutError
from graphql_api.fastpath import FastPath
from graphql_api.loaders import create_loaders
from graphql_api.principal import AUTH_OFF, Principal
from graphql_api.resources import Resources
from graphql_api.schema import build_schema
from graphql_api.schema.error_shaping import shape_error
from graphql_api.schema.source_report import stores_extension
from graphql_api.settings import Settings
from graphql_api.stores.fair_gate import current_caller
from graphql_api.stores.usage import StoreUsage
from graphql_api.web.admission import Admission, AdmissionObserver
from graphql_api.web.auth import AuthenticationFailed, Authenticator
from graphql_api.web.request_log import RequestRecord, current_request, request_id_from
from graphql_api.web.trusted_documents import TrustedDocuments

log = logging.getLogger("graphql_api.web.execution")

# The request state key holding the caller admitted for this request.
_ADMITTED = "admitted_caller"


class Unauthenticated(Exception):
    def __init__(self, failure: AuthenticationFailed) -> None:
        super().__init__(failure.message)
        self.failure = failure


class NotAdmitted(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


class Execution:
    """The schema, the fast path, the authenticator and the admission of one app."""

    def __init__(
        self,
        settings: Settings,
        *,
        report_fast_path: Callable[[str], None] | None = None,
        admission_observer: AdmissionObserver | None = None,
    ) -> None:
        self.settings = settings
        self.limits = settings.limits
        self._authenticator = Authenticator(settings.auth) if settings.auth is not None else None
        _log_auth(settings, self._authenticator)
        self.schema = build_schema(limits=settings.limits, production=settings.is_production)
        self.fast_path = (
            FastPath(
                self.schema,
                limits=settings.limits,
                max_page_size=settings.max_page_size,
                report=report_fast_path or (lambda outcome: None),
            )
            if settings.fast_path
            else None
        )
        self.documents = _trusted_documents(settings)
        self._admission = Admission(
            total=settings.limits.max_in_flight,
            per_caller=settings.limits.max_in_flight_per_caller,
            observer=admission_observer,
        )

    async def principal_of(self, request: Request) -> Principal:
        """The caller; raises Unauthenticated (answered with 401) when the token is not good."""
        if self._authenticator is None:
            return AUTH_OFF
        given = request.headers.getlist("authorization")
        if len(given) > 1:
            # A proxy that reads another of them than we do would disagree on who asks.
            raise HTTPException(400, "Send one Authorization header, not several.")
        outcome = await self._authenticator.principal(given[0] if given else None)
        if isinstance(outcome, AuthenticationFailed):
            raise Unauthenticated(outcome)
        return outcome

    def admit(self, request: Request, principal: Principal) -> None:
        """Takes a slot for this request (`release` gives it back), or raises NotAdmitted."""
        state = request.scope.setdefault("state", {})
        if _ADMITTED in state:
            return
        # Without auth every caller is AUTH_OFF: the address tells them apart.
        caller = principal.subject or (request.client.host if request.client else "unknown")
        refused = self._admission.enter(caller)
        if refused is not None:
            raise NotAdmitted(refused)
        state[_ADMITTED] = caller
        # The stores take turns at their connections by caller (stores/fair_gate.py).
        current_caller.set(caller)

    def release(self, request: Request) -> None:
        caller = request.scope.get("state", {}).pop(_ADMITTED, None)
        if caller is not None:
            self._admission.leave(caller)

    def context_for(self, request: Request, principal: Principal) -> Context:
        """A new Context for this request, noting what it does on the request's record."""
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
            settings=self.settings,
            request_id=record.request_id,
            store_usage=usage,
            actor=principal.subject,
            principal=principal,
            operations=record.operations,
            error_codes=record.error_codes,
            # The live feed (issue 15): the events query pages up to its position.
            feed_hub=getattr(request.app.state, "feed_hub", None),
        )

    def deadline(self, request: Request) -> float:
        """The request's one deadline (loop time), set when first asked for."""
        state = request.scope.setdefault("state", {})
        deadline = state.get("graphql_deadline")
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self.limits.request_timeout_s
            state["graphql_deadline"] = deadline
        return float(deadline)

    async def run(
        self,
        request: Request,
        context: Context,
        *,
        document: str,
        operation_name: str,
        variables: Mapping[str, Any],
    ) -> ExecutionResult:
        """One operation, within the request's deadline: the fast path's answer,
        else strawberry's, errors shaped the same way either way."""
        try:
            async with asyncio.timeout_at(self.deadline(request)):
                return await self._run(context, document, operation_name, variables)
        except TimeoutError:
            context.error_codes.append("TIMEOUT")
            return timed_out(self.limits.request_timeout_s, context)

    async def _run(
        self, context: Context, document: str, operation_name: str, variables: Mapping[str, Any]
    ) -> ExecutionResult:
        if self.fast_path is not None:
            answer = await self.fast_path.execute(
                query=document, operation_name=operation_name, variables=variables, context=context
            )
            if answer is not None:
                context.operations.append(answer.operation_name or "anonymous")
                return ExecutionResult(data=answer.data, errors=None, extensions=answer.extensions)
        result = await self.schema.execute(
            document,
            variable_values=dict(variables),
            context_value=context,
            operation_name=operation_name,
        )
        assert isinstance(result, ExecutionResult)
        return result


def _trusted_documents(settings: Settings) -> TrustedDocuments:
    """The documents clients may send by hash; a manifest that cannot be read
    stops the start, naming the setting."""
    path = settings.documents.manifest
    try:
        manifest = read_manifest(path) if path is not None else {}
    except ContractSourceError as error:
        raise ConfigError("GRAPHQL_API_TRUSTED_DOCUMENTS", str(error)) from None
    if path is not None:
        only = " (and nothing else)" if settings.documents.only_trusted else ""
        log.info("trusted documents: %d from %s%s", len(manifest), path, only)
    return TrustedDocuments(
        manifest,
        only_trusted=settings.documents.only_trusted,
        # APQ registration lets any client grow what the server keeps: development only.
        register=not settings.is_production,
    )


def timed_out(timeout_s: float, context: Context) -> ExecutionResult:
    """What a stopped operation answers: the TIMEOUT error, shaped like every other
    error, and the stores that served it so far (a timed-out part is degraded)."""
    stopped = RequestTimedOutError(timeout_s)
    error = shape_error(
        GraphQLError(stopped.message, original_error=stopped), request_id=context.request_id
    )
    context.store_usage.unanswered()
    return ExecutionResult(
        data=None, errors=[error], extensions=stores_extension(context.store_usage)
    )
