"""The GraphQL schema: one module per feature, no SQL and no drivers here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial

import strawberry
from graphql import DocumentNode
from graphql.error import GraphQLError
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graphql_api.schema.access import AccessControl
from graphql_api.schema.error_shaping import ErrorShaping
from graphql_api.schema.feed import Subscription
from graphql_api.schema.limits import BoundedValidation, QueryLimitsCheck
from graphql_api.schema.mutations import Mutation
from graphql_api.schema.observation import OperationObservation
from graphql_api.schema.queries import Query
from graphql_api.schema.shared_events import SharedEventExecutionContext
from graphql_api.schema.source_report import SourceReport
from graphql_api.schema.transport import Transport
from graphql_api.settings import QueryLimits
from graphql_api.text_cache import TextCache


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorShaping has logged what matters without stack traces or messages;
        # strawberry's default would log both.
        return


def build_schema(
    *, limits: QueryLimits | None = None, production: bool = False
) -> strawberry.Schema:
    """The schema; `limits` None leaves queries unlimited (export and offline checks).

    Extensions wrap each other in list order: observation sees the errors after
    ErrorShaping gave them their final codes; limits and access run before
    execution, so a refused operation reaches no resolver. SourceReport puts
    the stores that served the request in `extensions.stores`.
    """
    extensions: list[Callable[[], SchemaExtension]] = [
        OperationObservation,
        partial(ErrorShaping, hide_suggestions=production),
        SourceReport,
    ]
    if limits is not None:
        extensions.append(partial(QueryLimitsCheck, limits=limits))
    extensions.append(AccessControl)
    # Subscriptions over the socket only; their parsed documents shared there.
    documents: TextCache[DocumentNode] = TextCache(max_entries=128, max_text=256_000)
    extensions.append(partial(Transport, documents=documents))
    if production:
        extensions.append(DisableIntrospection)
    # Front ends send the same few documents over and over: validate each once (kept
    # by its text, at most 512 of 1 MB of text). The benchmark measured validation as over
    # half the CPU of a small query. No ParserCache: it parses inside its own hook,
    # where a syntax or token-limit error would skip ErrorShaping and lose its code.
    # After AccessControl, which refuses an operation the caller's roles do not
    # allow before it is validated.
    verdicts: TextCache[list[GraphQLError]] = TextCache(max_entries=512, max_text=1_000_000)
    extensions.append(partial(BoundedValidation, limits=limits, verdicts=verdicts))
    config = StrawberryConfig(
        disable_field_suggestions=production,
        # The endpoint enforces the configured batch size itself, with a message
        # naming the limit (web/graphql_view.py); the request body limit
        # bounds what strawberry could be handed here.
        batching_config={"max_operations": sys.maxsize},
    )
    return _Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=config,
        # One execution per event for subscribers that ask the same (shared_events.py).
        execution_context_class=SharedEventExecutionContext,
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
