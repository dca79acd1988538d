"""Subscriptions run over the websocket only, refused over HTTP before validation.

strawberry would otherwise execute a subscription sent as an HTTP POST or GET
like a query, and fail inside it. (The socket, in turn, takes subscriptions
only: web/live.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast
from strawberry.extensions import SchemaExtension

from graphql_api.context import Context


class SubscriptionsOverWebsocket(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            isinstance(context, Context)
            and context.live is None
            and execution.pre_execution_errors is None
            and _is_subscription(execution.graphql_document, execution.operation_name)
        ):
            error = GraphQLError(
                "Subscriptions run over a websocket at /graphql (graphql-transport-ws).",
                extensions={"code": "BAD_REQUEST"},
            )
            execution.pre_execution_errors = [error]
        yield


def _is_subscription(document: DocumentNode | None, operation_name: str | None) -> bool:
    if not isinstance(document, DocumentNode):
        return False
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION
