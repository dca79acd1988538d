"""Roles, checked right after parsing: viewers query, managers also mutate.

Authentication happened in the HTTP layer (a request without a valid token
never reaches the schema); here the caller's roles meet the operation type.
"""

from __future__ import annotations

from collections.abc import Iterator

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
    """Refuses right after parsing, before validation and the limits: a caller
    whose roles allow nothing costs no more than the parse."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        principal: Principal = context.context.principal
        try:
            operation_type = context.operation_type
        except Exception:
            operation_type = None
        message = None if operation_type is None else _refusal(principal, operation_type)
        if message is not None and context.pre_execution_errors is None:
            error = GraphQLError(message, extensions={"code": "FORBIDDEN"})
            context.pre_execution_errors = [error]
        yield
