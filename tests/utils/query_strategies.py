"""Hypothesis strategies for read queries over this schema, with the shapes
that make an executor slip: aliases, named and inline fragments, @include and
@skip, variables with defaults and nulls, real and unknown ids, good and bad
cursors, page sizes at, under and over the cap.

Values come from small lists of interesting ones (ids that exist in the demo
rows, ids that do not, malformed ones) rather than from random text, so most
queries reach the data; hypothesis-graphql's own strategy adds random breadth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)
from hypothesis import strategies as st

from graphql_api.schema.feed import EVENTS
from graphql_api.schema.pagination import CUSTOMERS, SALES_REPS, cursor_for

# Good values more often than bad ones: a bad argument makes the fast path
# decline the whole query, and most queries should reach the data.
_IDS = ("C-00001", "C-00002", "C-00137", "SR-001", "SR-002", "SR-020", "C-99999", "", "x" * 30)
_GOOD_IDS = _IDS[:7]
_FIRSTS = (0, 1, 2, 3, 5, 20, None, 100, 101, -1)
_GOOD_FIRSTS = _FIRSTS[:7]
_CURSORS = (
    cursor_for(CUSTOMERS, "C-00010"),
    cursor_for(SALES_REPS, "SR-005"),
    cursor_for(CUSTOMERS, "C-00499"),
    # Each list's cursor given to the other: refused as foreign.
    cursor_for(CUSTOMERS, "SR-005"),
    cursor_for(SALES_REPS, "C-00010"),
    "bad",
)
# The events feed's positions: early, late, past the newest event; then foreign ones.
_FEED_CURSORS = (
    cursor_for(EVENTS, "3"),
    cursor_for(EVENTS, "1200"),
    cursor_for(EVENTS, "99999"),
    cursor_for(EVENTS, "x1"),
    cursor_for(CUSTOMERS, "C-00010"),
)
_STATUSES = ("ACTIVE", "PROSPECT", "CHURNED", "INACTIVE")

# Arguments by name: a literal in GraphQL syntax and the same as a variable value.
_ARGUMENT_VALUES: dict[str, tuple[Any, ...]] = {
    "id": _IDS,
    "first": _FIRSTS,
    "after": (*_CURSORS, None),
    "status": (*_STATUSES, None),
    # The events feed's filters: either, both or neither (left out).
    "customerId": ("C-00001", "C-00137", "C-99999", "bad id!"),
    "salesRepId": ("SR-001", "SR-020", "SR-404", ""),
    "feedAfter": (*_FEED_CURSORS, None),
}

_GOOD_ARGUMENT_VALUES: dict[str, tuple[Any, ...]] = {
    "id": _GOOD_IDS,
    "first": _GOOD_FIRSTS,
    "after": (*_CURSORS[:3], None),
    "status": (*_STATUSES, None),
    "customerId": ("C-00001", "C-00137", "C-99999"),
    "salesRepId": ("SR-001", "SR-020", "SR-404"),
    "feedAfter": (*_FEED_CURSORS[:3], None),
}

_FILTERS: tuple[dict[str, Any], ...] = (
    {},
    {"status": "ACTIVE"},
    {"salesRepId": "SR-001"},
    {"salesRepId": "not an id!"},
    {"unassigned": True},
    {"unassigned": False, "country": "US"},
    {"nameContains": "health", "status": "PROSPECT"},
    {"state": "CA", "city": "Austin"},
)

_ENUM_ARGUMENTS = frozenset({"status"})
# A root field the fast path leaves to strawberry: generated on its own
# (feed_queries), so read_queries still compare the fast path with the reference.
_FEED_FIELD = "customerEvents"
_VARIABLE_TYPES = {
    "id": "ID!",
    "first": "Int",
    "after": "String",
    "status": "CustomerStatus",
    "customerId": "ID",
    "salesRepId": "ID",
}


def _literal(name: str, value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if name in _ENUM_ARGUMENTS:
        return str(value)
    if isinstance(value, dict):
        inner = ", ".join(
            f"{key}: {_literal(key if key == 'status' else '', item)}"
            for key, item in value.items()
        )
        return "{" + inner + "}"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@dataclass
class _Document:
    variables: dict[str, Any] = field(default_factory=dict)
    definitions: list[str] = field(default_factory=list)
    fragments: list[str] = field(default_factory=list)

    def variable(self, type_name: str, value: Any, *, default: Any = None) -> str:
        name = f"v{len(self.definitions)}"
        declared = f"${name}: {type_name}"
        if default is not None:
            declared += f" = {_literal('status' if 'Status' in type_name else '', default)}"
        self.definitions.append(declared)
        if value is not _OMITTED:
            self.variables[name] = value
        return f"${name}"


_OMITTED = object()


@st.composite
def _arguments(
    draw: st.DrawFn, definition: GraphQLField, document: _Document, field_name: str
) -> str:
    parts = []
    for name in definition.args:
        if name == "filter":
            if draw(st.booleans()):
                parts.append(f"filter: {_literal('', draw(st.sampled_from(_FILTERS)))}")
            continue
        required = isinstance(definition.args[name].type, GraphQLNonNull)
        if not required and draw(st.integers(0, 2)) == 0:
            continue
        # The events feed's cursors are positions of its own.
        pool = "feedAfter" if (field_name, name) == (_FEED_FIELD, "after") else name
        value = draw(
            st.sampled_from(_GOOD_ARGUMENT_VALUES[pool])
            if draw(st.integers(0, 9))
            else st.sampled_from(_ARGUMENT_VALUES[pool])
        )
        if draw(st.integers(0, 3)) == 0:
            # A variable: given, given as null, or left out for its default.
            type_name = _VARIABLE_TYPES[name]
            choice = draw(st.integers(0, 2))
            if choice == 2 and not required:
                default = draw(st.sampled_from(_ARGUMENT_VALUES[name]))
                reference = document.variable(type_name, _OMITTED, default=default)
            else:
                given = None if choice == 1 and not required else value
                reference = document.variable(type_name, given)
            parts.append(f"{name}: {reference}")
        else:
            parts.append(f"{name}: {_literal(name, value)}")
    return f"({', '.join(parts)})" if parts else ""


@st.composite
def _directive(draw: st.DrawFn, document: _Document) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return f" @include(if: {draw(st.sampled_from(('true', 'false')))})"
    if kind == 1:
        return f" @skip(if: {document.variable('Boolean!', draw(st.booleans()))})"
    return ""


@st.composite
def _selection_set(
    draw: st.DrawFn, parent: GraphQLObjectType, document: _Document, depth: int
) -> str:
    names = sorted(name for name in parent.fields if name != _FEED_FIELD)
    if depth <= 0:
        names = [
            n
            for n in names
            if not isinstance(get_named_type(parent.fields[n].type), GraphQLObjectType)
        ]
        if not names:
            return "{ __typename }"  # a page of the events feed holds objects only
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4))
    selections = []
    for position, name in enumerate(chosen):
        definition = parent.fields[name]
        alias = f"a{position}: " if draw(st.integers(0, 3)) == 0 else ""
        arguments = draw(_arguments(definition, document, name))
        text = f"{alias}{name}{arguments}{draw(_directive(document))}"
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLObjectType):
            text += " " + draw(_selection_set(named, document, depth - 1))
        selections.append(text)
    if draw(st.integers(0, 3)) == 0:
        selections.append("__typename")
    wrap = draw(st.integers(0, 5))
    if wrap == 0:
        selections = [f"... on {parent.name} {{ {' '.join(selections)} }}"]
    elif wrap == 1:
        fragment = f"F{len(document.fragments)}"
        document.fragments.append(
            f"fragment {fragment} on {parent.name} {{ {' '.join(selections)} }}"
        )
        selections = [f"...{fragment}", selections[0]]
    return "{ " + " ".join(selections) + " }"


@st.composite
def read_queries(draw: st.DrawFn, schema: GraphQLSchema) -> tuple[str, dict[str, Any]]:
    """A query document and its variables."""
    document = _Document()
    query_type = schema.query_type
    assert query_type is not None
    body = draw(_selection_set(query_type, document, depth=draw(st.integers(1, 4))))
    header = f"query Q({', '.join(document.definitions)})" if document.definitions else "query Q"
    text = " ".join([header, body, *document.fragments])
    return text, document.variables


@st.composite
def feed_queries(draw: st.DrawFn, schema: GraphQLSchema) -> tuple[str, dict[str, Any]]:
    """A query of the events feed (Query.customerEvents), with its variables."""
    document = _Document()
    query_type = schema.query_type
    assert query_type is not None
    definition = query_type.fields[_FEED_FIELD]
    alias = "feed: " if draw(st.booleans()) else ""
    arguments = draw(_arguments(definition, document, _FEED_FIELD))
    page = get_named_type(definition.type)
    assert isinstance(page, GraphQLObjectType)
    body = draw(_selection_set(page, document, depth=draw(st.integers(1, 2))))
    header = f"query Q({', '.join(document.definitions)})" if document.definitions else "query Q"
    text = " ".join([header, f"{{ {alias}{_FEED_FIELD}{arguments} {body} }}", *document.fragments])
    return text, document.variables


_CUSTOMER_IDS = ("C-00020", "C-00021", "C-00137", "C-90001", "C-99999", "", "bad id!")
_REP_IDS = ("SR-001", "SR-002", "SR-019", "SR-020", "SR-404")
_VERSIONS = (None, None, 1, 2, 3, 99, -1)
_TEXTS = (None, "Acme", "a@b.example", "not an email", "x" * 300, "Zürich")
_SELECTION = (
    "__typename ... on Customer { id name email city status version salesRep { id fullName }"
    " history(first: 2) { kind note fromStatus toStatus toSalesRep { id } } }"
    " ... on UserError { code message } ... on NotFoundError { id }"
    " ... on ValidationError { field } ... on VersionConflictError { currentVersion }"
    " ... on AlreadyExistsError { id }"
)
_INPUT_TYPES = {
    "assignCustomer": "AssignCustomerInput",
    "unassignCustomer": "UnassignCustomerInput",
    "updateCustomerStatus": "UpdateCustomerStatusInput",
    "createCustomer": "CreateCustomerInput",
    "updateCustomer": "UpdateCustomerInput",
}


@st.composite
def _mutation_input(draw: st.DrawFn, name: str) -> dict[str, Any]:
    if name == "createCustomer":
        # Always with an id: one the server makes up is random, so two servers differ.
        given: dict[str, Any] = {
            "name": draw(st.sampled_from(("New Co", "", "x" * 300))),
            "id": draw(st.sampled_from(_CUSTOMER_IDS)),
        }
        for field_name in ("email", "city", "country"):
            if draw(st.booleans()):
                given[field_name] = draw(st.sampled_from(_TEXTS))
        if draw(st.booleans()):
            given["salesRepId"] = draw(st.sampled_from(_REP_IDS))
        return given
    given = {"customerId": draw(st.sampled_from(_CUSTOMER_IDS))}
    version = draw(st.sampled_from(_VERSIONS))
    if version is not None:
        given["expectedVersion"] = version
    if name == "assignCustomer":
        given["salesRepId"] = draw(st.sampled_from(_REP_IDS))
    if name == "updateCustomerStatus":
        given["status"] = draw(st.sampled_from(_STATUSES))
    if name == "updateCustomer":
        for field_name in ("name", "email", "city"):
            if draw(st.booleans()):
                given[field_name] = draw(st.sampled_from(_TEXTS))
    if name != "updateCustomer" and draw(st.booleans()):
        given["note"] = draw(st.sampled_from(("moved", "x" * 600)))
    return given


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A mutation operation of one or two fields, its inputs as variables."""
    names = draw(st.lists(st.sampled_from(sorted(_INPUT_TYPES)), min_size=1, max_size=2))
    definitions, fields, variables = [], [], {}
    for position, name in enumerate(names):
        definitions.append(f"$in{position}: {_INPUT_TYPES[name]}!")
        fields.append(f"m{position}: {name}(input: $in{position}) {{ {_SELECTION} }}")
        variables[f"in{position}"] = draw(_mutation_input(name))
    document = f"mutation M({', '.join(definitions)}) {{ {' '.join(fields)} }}"
    return document, variables
