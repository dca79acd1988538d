"""One execution of a subscription event for all who asked the same.

graphql-core executes a subscription's selection once per event *per
subscriber*: with a thousand subscribers of one front end, the same document
and variables over the same event, a thousand times the same answer (a third
of a millisecond each, most of it collecting fields). A message the feed hands
to many subscribers carries `executions` (schema/feed.py); the per-event
executor keeps its answer there under the operation and the variables, and the
next subscriber with the same ones gets it without executing again. Messages
without it (status messages, one per subscriber) and everything that is not a
subscription event execute as before.
"""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# What executing a shared message gave, by (operation id, variables): the
# operation itself is kept with it, so an id reused by a later operation never matches.
Executions = dict[tuple[int, object], tuple[object, ExecutionResult]]


class SharedEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _executions: Executions | None = None
    _key: tuple[int, object] = (0, None)

    def build_per_event_executor(self, payload: Any) -> Any:
        executions = getattr(payload, "executions", None)
        variables = _frozen(self.variable_values.coerced) if executions is not None else None
        if isinstance(executions, dict) and variables is not None:
            key = (id(self.operation), variables)
            found = executions.get(key)
            if found is not None and found[0] is self.operation:
                # Answered for another subscriber: no executor to copy.
                return _Answered(found[1])
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, SharedEventExecutionContext)  # a copy of this one
        if isinstance(executions, dict) and variables is not None:
            executor._executions = executions
            executor._key = (id(self.operation), variables)
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        executions = self._executions
        if executions is None:
            return super().execute_operation(serially)
        result = super().execute_operation(serially)
        if not isinstance(result, ExecutionResult):
            return result  # an async field: not shared (the feed's messages have none)
        executions[self._key] = (self.operation, result)
        return _copy(result)


class _Answered:
    """What graphql-core asks of a per-event executor, for an event answered already."""

    __slots__ = ("_result",)

    def __init__(self, result: ExecutionResult) -> None:
        self._result = result

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return _copy(self._result)


def _copy(result: ExecutionResult) -> ExecutionResult:
    # Each subscriber's own result: the extensions change `errors` and
    # `extensions` on it; the data is only read.
    return ExecutionResult(data=result.data, errors=result.errors)


def _frozen(variables: dict[str, Any]) -> object | None:
    """The variables as a key; None when a value cannot be one (a list, an input)."""
    frozen = tuple(sorted(variables.items()))
    try:
        hash(frozen)
    except TypeError:
        return None
    return frozen
