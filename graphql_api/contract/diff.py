"""All changes between two schemas: graphql-core's, the deprecations, and a last resort."""

from __future__ import annotations

from graphql import GraphQLSchema, lexicographic_sort_schema, print_schema

from graphql_api.contract.changes import SchemaChange, Severity, graphql_core_changes
from graphql_api.contract.deprecations import deprecation_changes


def _sorted_sdl(schema: GraphQLSchema) -> str:
    return print_schema(lexicographic_sort_schema(schema))


def _unclassified() -> SchemaChange:
    return SchemaChange(
        Severity.DANGEROUS,
        "UNCLASSIFIED",
        "schema",
        "The schemas differ in a way this check does not classify; compare them by hand.",
        (),
    )


def schema_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """Every change from `old` to `new`, breaking first, then dangerous, then safe."""
    changes = graphql_core_changes(old, new) + deprecation_changes(old, new)
    if not changes and _sorted_sdl(old) != _sorted_sdl(new):
        # Neither finder knows this difference (a schema-level directive, say): it must
        # still not pass as "no change", or the changelog rule would miss it.
        changes.append(_unclassified())
    order = list(Severity)
    return sorted(changes, key=lambda change: (order.index(change.severity), change.key))
