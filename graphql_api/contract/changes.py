"""Every difference between two schemas, classified breaking, dangerous or safe.

graphql-core's `find_schema_changes` is the authority on the classification (it is what
`find_breaking_changes` and `find_dangerous_changes` filter). It reports each change as a
sentence, so each kind's sentence is read back into a schema coordinate here; a sentence
this module cannot read fails loudly rather than losing a change. What graphql-core does
not report, deprecations, is detected in `deprecations.py`; `diff.py` joins the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from graphql import GraphQLSchema
from graphql.utilities.find_schema_changes import (
    BreakingChangeType,
    DangerousChangeType,
    find_schema_changes,
)

from graphql_api.errors import UnreadableChangeError


class Severity(StrEnum):
    BREAKING = "breaking"
    DANGEROUS = "dangerous"
    SAFE = "safe"


@dataclass(frozen=True)
class SchemaChange:
    severity: Severity
    kind: str
    # A schema coordinate: `Customer`, `Customer.email`, `Query.customer(id:)`,
    # `CustomerStatus.ACTIVE`, `@include(if:)`; `Union|Member` for a union's member or a
    # directive's location, `Type&Interface` for an implemented interface.
    coordinate: str
    description: str
    # Coordinates whose use by an operation means the change reaches that operation.
    touches: tuple[str, ...]

    @property
    def key(self) -> str:
        """How schema-changes.md names this change."""
        return f"{self.severity}: {self.kind} {self.coordinate}"


_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
_OWNER = rf"(?P<owner>@?{_NAME})"
_FIELD = rf"(?P<field>{_NAME})"
_ARG = rf"(?P<arg>{_NAME})"
_MEMBER = rf"(?P<member>{_NAME})"
_IFACE = rf"(?P<iface>{_NAME})"
_FIELD_COORDINATE = rf"{_OWNER}\.{_FIELD}"
_ARG_COORDINATE = rf"{_OWNER}(?:\.{_FIELD})?\({_ARG}:?\)"

# graphql-core's sentences (graphql/utilities/find_schema_changes.py), by kind. Kinds
# that share a name across severities share a sentence.
_SENTENCES: dict[str, tuple[str, ...]] = {
    "TYPE_REMOVED": (rf"(?:Standard scalar )?{_OWNER} was removed",),
    "TYPE_CHANGED_KIND": (rf"{_OWNER} changed from ",),
    "TYPE_REMOVED_FROM_UNION": (rf"{_MEMBER} was removed from union type {_OWNER}\.",),
    "VALUE_REMOVED_FROM_ENUM": (rf"Enum value {_FIELD_COORDINATE} was removed",),
    "REQUIRED_INPUT_FIELD_ADDED": (rf"A required field {_FIELD_COORDINATE} was added",),
    "IMPLEMENTED_INTERFACE_REMOVED": (rf"{_OWNER} no longer implements interface {_IFACE}\.",),
    "FIELD_REMOVED": (rf"Field {_FIELD_COORDINATE} was removed",),
    "FIELD_CHANGED_KIND": (rf"Field {_FIELD_COORDINATE} changed type",),
    "REQUIRED_ARG_ADDED": (rf"A required argument {_ARG_COORDINATE} was added",),
    "ARG_REMOVED": (rf"Argument {_ARG_COORDINATE} was removed",),
    "ARG_CHANGED_KIND": (rf"Argument {_ARG_COORDINATE} has changed type",),
    "DIRECTIVE_REMOVED": (rf"Directive {_OWNER} was removed",),
    "DIRECTIVE_ARG_REMOVED": (rf"Argument {_ARG_COORDINATE} was removed",),
    "REQUIRED_DIRECTIVE_ARG_ADDED": (rf"A required argument {_ARG_COORDINATE} was added",),
    "DIRECTIVE_REPEATABLE_REMOVED": (rf"Repeatable flag was removed from {_OWNER}\.",),
    "DIRECTIVE_LOCATION_REMOVED": (rf"{_MEMBER} was removed from {_OWNER}\.",),
    "VALUE_ADDED_TO_ENUM": (rf"Enum value {_FIELD_COORDINATE} was added",),
    "TYPE_ADDED_TO_UNION": (rf"{_MEMBER} was added to union type {_OWNER}\.",),
    "OPTIONAL_INPUT_FIELD_ADDED": (rf"An optional field {_FIELD_COORDINATE} was added",),
    "OPTIONAL_ARG_ADDED": (rf"An optional argument {_ARG_COORDINATE} was added",),
    "IMPLEMENTED_INTERFACE_ADDED": (rf"{_IFACE} added to interfaces implemented by {_OWNER}\.",),
    "ARG_DEFAULT_VALUE_CHANGE": (rf"{_ARG_COORDINATE} (?:defaultValue was|has changed)",),
    "INPUT_FIELD_DEFAULT_VALUE_CHANGE": (rf"{_FIELD_COORDINATE} (?:defaultValue was|has changed)",),
    "TYPE_ADDED": (rf"{_OWNER} was added\.",),
    "DIRECTIVE_ADDED": (rf"Directive {_OWNER} was added",),
    "FIELD_ADDED": (rf"Field {_FIELD_COORDINATE} was added",),
    "DIRECTIVE_REPEATABLE_ADDED": (rf"Repeatable flag was added to {_OWNER}\.",),
    "DIRECTIVE_LOCATION_ADDED": (rf"{_MEMBER} was added to {_OWNER}\.",),
    "OPTIONAL_DIRECTIVE_ARG_ADDED": (rf"An optional argument {_ARG_COORDINATE} was added",),
    "FIELD_CHANGED_KIND_SAFE": (rf"Field {_FIELD_COORDINATE} changed type",),
    "ARG_CHANGED_KIND_SAFE": (rf"Argument {_ARG_COORDINATE} has changed type",),
    "ARG_DEFAULT_VALUE_ADDED": (rf"{_ARG_COORDINATE} added a defaultValue",),
    "INPUT_FIELD_DEFAULT_VALUE_ADDED": (rf"{_FIELD_COORDINATE} added a defaultValue",),
    "DESCRIPTION_CHANGED": (
        rf"Description of argument {_ARG_COORDINATE} has changed",
        # graphql-core names a directive argument by its directive's name twice.
        rf"Description of {_OWNER}\({_NAME}\) has changed",
        rf"Description of (?:field |input-field |enum value )?{_FIELD_COORDINATE} has changed",
        rf"Description of {_OWNER} has changed",
    ),
}

# Which part of the coordinate an operation must use to be reached by the change. A
# required argument added to `Query.customer` reaches every operation that selects
# `Query.customer`, whether or not it passes the new argument; a value added to an enum
# reaches every operation that reads the enum. Kinds not listed reach the coordinate's
# users; "none" is for what no operation can use yet.
_REACH: dict[str, str] = {
    "TYPE_REMOVED_FROM_UNION": "owner",
    "TYPE_ADDED_TO_UNION": "owner",
    "VALUE_ADDED_TO_ENUM": "owner",
    "REQUIRED_INPUT_FIELD_ADDED": "owner",
    "OPTIONAL_INPUT_FIELD_ADDED": "owner",
    "INPUT_FIELD_DEFAULT_VALUE_CHANGE": "owner",
    "IMPLEMENTED_INTERFACE_REMOVED": "iface",
    "IMPLEMENTED_INTERFACE_ADDED": "iface",
    "REQUIRED_ARG_ADDED": "field",
    "REQUIRED_DIRECTIVE_ARG_ADDED": "field",
    "OPTIONAL_ARG_ADDED": "field",
    "ARG_DEFAULT_VALUE_CHANGE": "field",
    "DIRECTIVE_LOCATION_REMOVED": "owner",
    "TYPE_ADDED": "none",
    "DIRECTIVE_ADDED": "none",
    "FIELD_ADDED": "none",
    "DIRECTIVE_LOCATION_ADDED": "none",
    "OPTIONAL_DIRECTIVE_ARG_ADDED": "none",
}


def _severity(kind: object) -> Severity:
    if isinstance(kind, BreakingChangeType):
        return Severity.BREAKING
    if isinstance(kind, DangerousChangeType):
        return Severity.DANGEROUS
    return Severity.SAFE


def _coordinate(parts: dict[str, str | None]) -> str:
    coordinate = parts["owner"] or ""
    if parts.get("field"):
        coordinate += f".{parts['field']}"
    if parts.get("arg"):
        coordinate += f"({parts['arg']}:)"
    if parts.get("member"):
        coordinate += f"|{parts['member']}"
    if parts.get("iface"):
        coordinate += f"&{parts['iface']}"
    return coordinate


def _touches(kind: str, coordinate: str, parts: dict[str, str | None]) -> tuple[str, ...]:
    reach = _REACH.get(kind, "self")
    owner = parts["owner"] or ""
    if reach == "none":
        return ()
    if reach == "owner":
        return (owner,)
    if reach == "iface":
        return (parts["iface"] or "",)
    if reach == "field" and parts.get("field"):
        return (f"{owner}.{parts['field']}",)
    if reach == "field":
        return (owner,)
    return (coordinate,)


def read_change(kind: str, severity: Severity, description: str) -> SchemaChange:
    """One graphql-core change as a SchemaChange with its coordinate."""
    for sentence in _SENTENCES.get(kind, ()):
        match = re.match(sentence, description)
        if match:
            parts = match.groupdict()
            coordinate = _coordinate(parts)
            touches = _touches(kind, coordinate, parts)
            return SchemaChange(severity, kind, coordinate, description, touches)
    raise UnreadableChangeError(kind, description)


def graphql_core_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """What graphql-core finds from `old` to `new`, each with its coordinate."""
    return [
        read_change(change.type.name, _severity(change.type), change.description)
        for change in find_schema_changes(old, new)
    ]
