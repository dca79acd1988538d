"""What differs between the two ways in: HTTP and the websocket (web/live.py).

- A subscription sent over HTTP is refused before validation: strawberry would
  otherwise execute it like a query and fail inside it. (The socket, in turn,
  takes subscriptions only.)
- Over the socket, the parsed documents are shared: a subscription keeps its
  document for as long as it runs, and a thousand subscribers of one front end
  send the same text; parsed once, it is 20 KB per subscriber less.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast
from strawberry.extensions import SchemaExtension

from graphql_api.context import Context
from graphql_api.text_cache import TextCache


class Transport(SchemaExtension):
    def __init__(self, *, documents: TextCache[DocumentNode]) -> None:
        # Subscription text -> its parsed document, one cache for the schema's life.
        self._documents = documents

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        query = execution.query
        over_socket = isinstance(execution.context, Context) and execution.context.live is not None
        if over_socket and query is not None and execution.graphql_document is None:
            execution.graphql_document = self._documents.get(query)
        yield
        if over_socket and query is not None and execution.graphql_document is not None:
            self._documents.put(query, execution.graphql_document)

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
