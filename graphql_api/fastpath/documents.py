"""Parse and validate a document once: a bounded cache keyed by its text.

A front end sends the same few documents over and over; after the first time
a repeat costs one dictionary lookup. Only documents the fast path can run
completely are kept as operations: a valid query that asks for no
introspection (a query or a mutation), uses no directive but @skip and @include and no fragment
variables. Anything else (a syntax error, a validation error, a mutation,
`__schema`) is remembered as None, and the reference execution answers it,
errors and all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    parse,
    specified_rules,
    visit,
)
from graphql.execution.collect_fields import FragmentDetails
from strawberry.schema.schema import validate_document

from graphql_api.schema.field_merges import field_merges
from graphql_api.text_cache import TextCache

_INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
_PLAIN_DIRECTIVES = frozenset({"skip", "include"})
_COVERED = frozenset({OperationType.QUERY, OperationType.MUTATION})


@dataclass(frozen=True, slots=True)
class PreparedOperation:
    """A parsed, valid query or mutation of a document, ready to plan."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    # Which fields a request selects depends on its variables only through
    # @skip/@include(if: $variable); without those the selection is the same
    # for every request and its plan can be kept.
    fixed_selection: bool
    # What the planner and the limits keep for this operation (see plan.py).
    memo: dict[str, Any] = field(default_factory=dict)


class _Unsupported(Visitor):
    """Finds what the fast path leaves to the reference execution, and whether
    a directive's condition comes from a variable."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False
        self.variable_directives = False

    def enter_field(self, node: FieldNode, *_: object) -> None:
        if node.name.value in _INTROSPECTION_FIELDS:
            self.found = True

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        if node.name.value not in _PLAIN_DIRECTIVES:
            self.found = True
        if any(isinstance(argument.value, VariableNode) for argument in node.arguments or ()):
            self.variable_directives = True

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: object) -> None:
        if node.variable_definitions:
            self.found = True


def _operations(
    schema: GraphQLSchema, query: str, *, max_tokens: int, max_field_merges: int
) -> dict[str | None, PreparedOperation] | None:
    """Every query operation of the document by name, or None when the fast
    path must not run any of it."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    # Over the validation budget: the reference execution refuses it, unvalidated.
    if field_merges(document, budget=max_field_merges) is None:
        return None
    if validate_document(schema, document, tuple(specified_rules)):
        return None
    unsupported = _Unsupported()
    visit(document, unsupported)
    if unsupported.found:
        return None
    fragments = {
        definition.name.value: FragmentDetails(definition)
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    prepared: dict[str | None, PreparedOperation] = {}
    for operation in operations:
        if operation.operation not in _COVERED:
            continue
        entry = PreparedOperation(
            document, operation, fragments, fixed_selection=not unsupported.variable_directives
        )
        if operation.name is not None:
            prepared[operation.name.value] = entry
        if len(operations) == 1:
            # Without an operation name a document must hold exactly one.
            prepared[None] = entry
    return prepared


# Kept documents: at most 512, of a megabyte of query text in all (about 80 MB
# of ASTs at worst; graphql_api/text_cache.py).
_MAX_DOCUMENTS = 512
_MAX_DOCUMENT_TEXT = 1_000_000


class DocumentCache:
    """Query text -> its prepared operations; least recently used out first."""

    def __init__(self, schema: GraphQLSchema, *, max_tokens: int, max_field_merges: int) -> None:
        self._schema = schema
        self._max_tokens = max_tokens
        self._max_field_merges = max_field_merges
        self._documents: TextCache[dict[str | None, PreparedOperation] | None] = TextCache(
            max_entries=_MAX_DOCUMENTS, max_text=_MAX_DOCUMENT_TEXT
        )

    def operation(self, query: str, operation_name: str | None) -> PreparedOperation | None:
        documents = self._documents
        if query in documents:
            operations = documents.get(query)
        else:
            operations = _operations(
                self._schema,
                query,
                max_tokens=self._max_tokens,
                max_field_merges=self._max_field_merges,
            )
            documents.put(query, operations)
        if operations is None:
            return None
        return operations.get(operation_name)
