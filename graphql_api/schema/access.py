"""Roles, checked before any resolver runs: viewers query, managers also mutate.

Authentication happened in the HTTP layer (a request without a valid token
never reaches the schema); here the caller's roles meet the operation type.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graphql_api.principal import Principal


def _refusal(principal: Principal, operation: OperationType) -> str | None:
    if operation is OperationType.MUTATION and not principal.may_mutate:
        return "Mutations need the manager role."
    if operation is not OperationType.MUTATION and not principal.may_query:
        return "Queries need the viewer or manager role."
    return None


class AccessControl(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        principal: Principal = context.context.principal
        message = _refusal(principal, context.operation_type)
        if message is not None and context.result is None:
            error = GraphQLError(message, extensions={"code": "FORBIDDEN"})
            context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
