"""Tells the request's record which operation ran and which error codes it sent.

Listed first among the extensions, so it sees the errors after ErrorShaping
has given each its final code.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from graphql_api.web.request_log import current_request


class OperationObservation(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        record = current_request()
        if record is None:
            return
        context = self.execution_context
        if context.graphql_document is not None:
            record.operations.append(context.operation_name or "anonymous")
        result = context.result
        for error in (result.errors if result is not None else None) or []:
            record.error_codes.append(str((error.extensions or {}).get("code", "INTERNAL")))
