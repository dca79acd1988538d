"""Notes on the request's Context which operations ran and which error codes they sent.

The HTTP layer reads them for the access log and the metrics. Listed first among
the extensions, so it sees the errors after ErrorShaping has given each its final
code.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from graphql_api.context import Context


class OperationObservation(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context):
            return
        if execution.graphql_document is not None:
            context.operations.append(execution.operation_name or "anonymous")
        result = execution.result
        for error in (result.errors if result is not None else None) or []:
            context.error_codes.append(str((error.extensions or {}).get("code", "INTERNAL")))
