"""Deprecations: the way a field or enum value leaves the contract.

graphql-core's change finder does not report `@deprecated` being added or dropped, so
this module does, and lists what is deprecated now, for the operations still using it.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from graphql_api.contract.changes import SchemaChange, Severity


def _members(schema: GraphQLSchema) -> Iterator[tuple[str, str | None]]:
    """(coordinate, deprecation reason or None) of everything that can be deprecated."""
    for name, named_type in schema.type_map.items():
        if name.startswith("__"):
            continue  # introspection types are graphql-core's, not the contract's
        if isinstance(named_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named_type.fields.items():
                yield f"{name}.{field_name}", field.deprecation_reason
                for arg_name, arg in field.args.items():
                    yield f"{name}.{field_name}({arg_name}:)", arg.deprecation_reason
        elif isinstance(named_type, GraphQLInputObjectType):
            for field_name, input_field in named_type.fields.items():
                yield f"{name}.{field_name}", input_field.deprecation_reason
        elif isinstance(named_type, GraphQLEnumType):
            for value_name, value in named_type.values.items():
                yield f"{name}.{value_name}", value.deprecation_reason


def deprecated_members(schema: GraphQLSchema) -> dict[str, str]:
    """Coordinate -> reason, for every deprecated field, argument and enum value."""
    return {coordinate: reason for coordinate, reason in _members(schema) if reason is not None}


def _change(kind: str, coordinate: str, description: str) -> SchemaChange:
    return SchemaChange(Severity.SAFE, kind, coordinate, description, (coordinate,))


def deprecation_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """Deprecations added, withdrawn or reworded on what both schemas have."""
    old_reasons = dict(_members(old))
    new_reasons = dict(_members(new))
    changes = []
    for coordinate in sorted(old_reasons.keys() & new_reasons.keys()):
        before, after = old_reasons[coordinate], new_reasons[coordinate]
        if before == after:
            continue
        if before is None:
            changes.append(
                _change("DEPRECATION_ADDED", coordinate, f"{coordinate} is deprecated: {after}")
            )
        elif after is None:
            changes.append(
                _change("DEPRECATION_REMOVED", coordinate, f"{coordinate} is no longer deprecated.")
            )
        else:
            description = f"{coordinate}'s deprecation reason is now: {after}"
            changes.append(_change("DEPRECATION_REASON_CHANGED", coordinate, description))
    return changes
