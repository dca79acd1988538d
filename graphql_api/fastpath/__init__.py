"""The fast execution path: queries answered straight from records, same bytes.

strawberry and graphql-core stay the reference: they define every answer and
serve whatever the fast path does not cover. The fast path takes a query only
when the reference would run it without an error before the first resolver
(valid, within the limits, allowed for the caller's roles, good variables and
arguments), plans it once per request from the query's shape, and builds the
response dicts from the records the same per-request loaders return. When
anything unusual happens on the way (a store failure, a null where the schema
promises a value) it hands the request to the reference execution, which then
answers as it always has; the loaders keep what was already read, so nothing
is read twice.

`tests/test_fastpath_differential.py` runs the same requests through both
and compares every byte.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLSchema, OperationType
from graphql.execution.values import get_variable_values

from graphql_api.context import Context
from graphql_api.fastpath.documents import DocumentCache, PreparedOperation
from graphql_api.fastpath.execute import Delegate, run_mutation, run_plan
from graphql_api.fastpath.plan import Planner, RequestPlan, Unplannable
from graphql_api.schema.limits import measure_operation, violations
from graphql_api.schema.source_report import stores_extension
from graphql_api.settings import QueryLimits

log = logging.getLogger("graphql_api.fastpath")


@dataclass(frozen=True, slots=True)
class FastAnswer:
    data: dict[str, Any]
    extensions: dict[str, Any]
    # As strawberry names it for the access log: the one given, else the document's.
    operation_name: str | None


class FastPath:
    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        limits: QueryLimits,
        max_page_size: int,
        report: Callable[[str], None] = lambda outcome: None,
    ) -> None:
        """`report` hears each operation's outcome: answered, declined or handed_on."""
        self._report = report
        self._schema: GraphQLSchema = schema._schema
        self._limits = limits
        self._documents = DocumentCache(
            self._schema, max_tokens=limits.max_tokens, max_field_merges=limits.max_field_merges
        )
        self._planner = Planner(schema, max_page_size=max_page_size)

    async def execute(
        self,
        *,
        query: str | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        context: Context,
        mutations: bool = True,
    ) -> FastAnswer | None:
        """The answer, or None: the reference execution answers. `mutations`
        False (a GET) declines mutations, which strawberry then refuses."""
        plan = self._plan(query, operation_name, variables, context, mutations=mutations)
        if plan is None:
            self._report("declined")
            return None
        context.loaders.keep_failures()
        try:
            if plan.mutation:
                data = await run_mutation(plan.fields, context)
            else:
                data = await run_plan(plan.fields, context.loaders)
        except Delegate as reason:
            log.info("fast path handed a request on: %s", reason)
            self._report("handed_on")
            return None
        except Exception as error:
            # A store failure: the reference execution shapes its error.
            log.info("fast path handed a request on: %s", type(error).__name__)
            self._report("handed_on")
            return None
        self._report("answered")
        return FastAnswer(
            data=data,
            extensions=stores_extension(context.store_usage),
            operation_name=operation_name or plan.document_operation_name,
        )

    def _plan(
        self,
        query: str | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        context: Context,
        *,
        mutations: bool,
    ) -> _Planned | None:
        """The request's plan when the reference would run it without an error
        before its first resolver; else None."""
        if not query:
            return None
        prepared = self._documents.operation(query, operation_name)
        if prepared is None:
            return None
        mutation = prepared.operation.operation is OperationType.MUTATION
        principal = context.principal
        if not (principal.may_mutate and mutations if mutation else principal.may_query):
            return None
        coerced = get_variable_values(
            self._schema, prepared.operation.variable_definitions or (), dict(variables or {})
        )
        if isinstance(coerced, list):
            return None
        if not self._within_limits(prepared, operation_name, variables):
            return None
        try:
            fields = self._planner.plan(prepared, coerced)
        except Unplannable:
            return None
        named = prepared.operation.name
        return _Planned(fields, named.value if named else None, mutation)

    def _within_limits(
        self,
        prepared: PreparedOperation,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> bool:
        """The limits' verdict, kept for an operation whose measure reads no variable."""
        known = prepared.memo.get(_WITHIN_LIMITS)
        if known is not None:
            return bool(known)
        read = _ReadRecorder(variables or {})
        measure = measure_operation(
            self._schema, prepared.document, operation_name=operation_name, variables=read
        )
        within = measure is not None and not violations(measure, self._limits)
        if not read.asked:
            prepared.memo[_WITHIN_LIMITS] = within
        return within


_WITHIN_LIMITS = "within_limits"


class _ReadRecorder(Mapping[str, Any]):
    """The request's variables, noting whether anyone looked at them."""

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self._variables = variables
        self.asked = False

    def __getitem__(self, name: str) -> Any:
        self.asked = True
        return self._variables[name]

    def __contains__(self, name: object) -> bool:
        self.asked = True
        return name in self._variables

    def __iter__(self) -> Iterator[str]:
        self.asked = True
        return iter(self._variables)

    def __len__(self) -> int:
        self.asked = True
        return len(self._variables)

    def __bool__(self) -> bool:
        # `variables or {}` is not a look at them.
        return True


@dataclass(frozen=True, slots=True)
class _Planned:
    fields: RequestPlan
    document_operation_name: str | None
    mutation: bool
