"""The GraphQL schema: one module per feature, no SQL and no drivers here."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.types import ExecutionContext

from graphql_api.schema.error_shaping import ErrorShaping
from graphql_api.schema.mutations import Mutation
from graphql_api.schema.queries import Query
from graphql_api.schema.source_report import SourceReport


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorShaping has logged what matters without stack traces or messages;
        # strawberry's default would log both.
        return


def build_schema(**_: Any) -> strawberry.Schema:
    return _Schema(query=Query, mutation=Mutation, extensions=[ErrorShaping, SourceReport])


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
