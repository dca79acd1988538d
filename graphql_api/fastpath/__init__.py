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
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLSchema, OperationType
from graphql.execution.values import get_variable_values

from graphql_api.context import Context
from graphql_api.fastpath.documents import DocumentCache, PreparedOperation
from graphql_api.fastpath.execute import Delegate, run_mutation, run_plan
from graphql_api.fastpath.plan import Planner, RequestPlan, Unplannable
from graphql_api.schema.limits import cost_extension, measure_operation, violations
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
        # In the order the reference's extensions report them: stores, then cost.
        extensions = stores_extension(context.store_usage)
        extensions["cost"] = cost_extension(plan.cost, self._limits.max_cost)
        return FastAnswer(
            data=data,
            extensions=extensions,
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
        cost = self._cost_within_limits(prepared, operation_name, variables)
        if cost is None:
            return None
        try:
            fields = self._planner.plan(prepared, coerced)
        except Unplannable:
            return None
        named = prepared.operation.name
        return _Planned(fields, named.value if named else None, mutation, cost)

    def _cost_within_limits(
        self,
        prepared: PreparedOperation,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int | None:
        """The operation's cost when it is within the limits, else None: the
        verdict, kept per operation and the values of the variables its measure
        reads (a page's `first`, most often).

        The measure is a function of the values it reads. The names read by
        any measure of the operation so far are the key; two requests that
        agree on all of them read the same values in the same order, so they
        get the same verdict. A measure that reads a new name widens the key
        and starts the verdicts afresh."""
        given = variables or {}
        memo = prepared.memo
        names: tuple[str, ...] = memo.get(_LIMIT_NAMES, ())
        verdicts: dict[Hashable, int | None] = memo.setdefault(_LIMIT_VERDICTS, {})
        key = _key(given, names)
        if key is not None and key in verdicts:
            return verdicts[key]
        read = _ReadRecorder(given)
        measure = measure_operation(
            self._schema, prepared.document, operation_name=operation_name, variables=read
        )
        cost = (
            measure.cost if measure is not None and not violations(measure, self._limits) else None
        )
        if not read.names <= set(names):
            names = memo[_LIMIT_NAMES] = tuple(sorted(read.names | set(names)))
            verdicts.clear()
            key = _key(given, names)
        if key is not None and len(verdicts) < _MAX_LIMIT_VERDICTS:
            verdicts[key] = cost
        return cost


_LIMIT_NAMES = "limit_variable_names"
_LIMIT_VERDICTS = "limit_verdicts"
# Per operation; a client varying `first` over every value gets no more.
_MAX_LIMIT_VERDICTS = 256
_ABSENT = object()


def _key(variables: Mapping[str, Any], names: tuple[str, ...]) -> Hashable | None:
    """The values of `names` in `variables`, or None when one cannot be a key."""
    key = tuple(variables.get(name, _ABSENT) for name in names)
    try:
        hash(key)
    except TypeError:
        return None  # a list or an input object
    return key


class _ReadRecorder(Mapping[str, Any]):
    """The request's variables, noting the names anyone looked up."""

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self._variables = variables
        self.names: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.names.add(name)
        return self._variables[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.names.add(name)
        return name in self._variables

    def __iter__(self) -> Iterator[str]:
        # Nothing measures by walking every variable; should it, every name counts.
        self.names.update(self._variables)
        return iter(self._variables)

    def __len__(self) -> int:
        self.names.update(self._variables)
        return len(self._variables)

    def __bool__(self) -> bool:
        # `variables or {}` is not a look at them.
        return True


@dataclass(frozen=True, slots=True)
class _Planned:
    fields: RequestPlan
    document_operation_name: str | None
    mutation: bool
    cost: int
