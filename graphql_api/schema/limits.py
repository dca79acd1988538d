"""What one operation may cost: depth, aliases and a page-size-aware cost.

Checked after validation and before any resolver runs, so a rejected query
touches no store. The measures:

- depth: how far fields nest below the top-level field (`{ customer { id } }`
  is 1); introspection fields do not count, as in graphql-depth-limit.
- aliases: aliased fields in the operation, counted once per fragment spread.
- cost: a leaf field costs 0; an object field 1 plus its selections; a field
  with a `first` argument (a page) 1 plus `first` times (1 plus its selections).
  `first` left out or null counts as the field's default. Fragments count
  where they are spread.

Each fragment is measured once and remembered, so a document that spreads a
fragment many times (or fragments that spread each other in a fan) is
measured in time linear in its size; strawberry's own depth and alias
limiters walk every path, which is exponential for such a document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from graphql_api.schema.field_merges import field_merges
from graphql_api.schema.pagination import DEFAULT_PAGE_SIZE
from graphql_api.settings import QueryLimits
from graphql_api.text_cache import TextCache

LIMIT_CODE = "QUERY_LIMIT_EXCEEDED"
# graphql-core's message when MaxTokensLimiter stops the parser.
_TOKENS_MESSAGE = "Document contains more than"


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0

    def beside(self, other: Measure) -> Measure:
        """Two selections in one selection set."""
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=self.aliases + other.aliases,
            cost=self.cost + other.cost,
        )


class _Measurer:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        operation: OperationDefinitionNode,
    ) -> None:
        self._schema = schema
        self._variables = variables
        self._variable_defaults = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
        }
        self._fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._measured: dict[str, Measure] = {}
        self._measuring: set[str] = set()

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> Measure:
        total = Measure()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total = total.beside(self._field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._schema.get_type(condition.name.value) if condition else parent
                total = total.beside(self.selection_set(selection.selection_set, inner))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.beside(self._fragment(selection.name.value))
        return total

    def _fragment(self, name: str) -> Measure:
        if name in self._measured:
            return self._measured[name]
        fragment = self._fragments.get(name)
        # Validation rejects cycles and unknown fragments first; this keeps the
        # walk finite whatever it is given.
        if fragment is None or name in self._measuring:
            return Measure()
        self._measuring.add(name)
        condition = self._schema.get_type(fragment.type_condition.name.value)
        measure = self.selection_set(fragment.selection_set, condition)
        self._measuring.discard(name)
        self._measured[name] = measure
        return measure

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        alias = 1 if node.alias else 0
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        child_type = get_named_type(definition.type) if definition else None
        if node.selection_set is None:
            return Measure(aliases=alias)
        inner = self.selection_set(node.selection_set, child_type)
        if node.name.value.startswith("__"):
            return Measure(aliases=alias + inner.aliases)
        cost = 1 + inner.cost
        if definition is not None and "first" in definition.args:
            cost = 1 + self._page_size(node, definition.args["first"]) * (1 + inner.cost)
        return Measure(depth=1 + inner.depth, aliases=alias + inner.aliases, cost=cost)

    def _page_size(self, node: FieldNode, argument: GraphQLArgument) -> int:
        default = argument.default_value if isinstance(argument.default_value, int) else None
        arguments = node.arguments or ()
        value_node = next((a.value for a in arguments if a.name.value == "first"), None)
        value: object = default
        if isinstance(value_node, IntValueNode):
            value = int(value_node.value)
        elif isinstance(value_node, NullValueNode):
            value = None
        elif isinstance(value_node, VariableNode):
            value = self._variable(value_node.name.value, default)
        if not isinstance(value, int) or isinstance(value, bool):
            return DEFAULT_PAGE_SIZE
        return max(0, value)

    def _variable(self, name: str, default: int | None) -> object:
        if name in self._variables:
            return self._variables[name]
        given = self._variable_defaults.get(name)
        if isinstance(given, IntValueNode):
            return int(given.value)
        if isinstance(given, NullValueNode):
            return None
        return default


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


def measure_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Measure | None:
    """The operation's measure; None when the document names no such operation."""
    operation = _operation(document, operation_name)
    if operation is None:
        return None
    measurer = _Measurer(schema, document, variables or {}, operation)
    root = schema.get_root_type(operation.operation)
    return measurer.selection_set(operation.selection_set, root)


def cost_extension(cost: int, maximum: int) -> dict[str, int]:
    """`extensions.cost` of an answer: what the operation was measured to cost
    and the most an operation may (as Shopify's API reports it), so a client
    sees how close it is before it is refused."""
    return {"requestedQueryCost": cost, "maximumQueryCost": maximum}


def limit_error(limit: str, message: str, *, maximum: int, actual: int | None) -> GraphQLError:
    extensions: dict[str, object] = {"code": LIMIT_CODE, "limit": limit, "maximum": maximum}
    if actual is not None:
        extensions["actual"] = actual
    return GraphQLError(message, extensions=extensions)


def field_merges_error(document: DocumentNode, limits: QueryLimits) -> GraphQLError | None:
    """The refusal of a document whose validation would cost too much, if it would."""
    maximum = limits.max_field_merges
    if field_merges(document, budget=maximum) is not None:
        return None
    message = (
        "The document repeats fields (or fragments) so often that checking they agree"
        f" would cost more than {maximum}; send each field once."
    )
    return limit_error("fieldMerges", message, maximum=maximum, actual=None)


def violations(measure: Measure, limits: QueryLimits) -> list[GraphQLError]:
    errors = []
    if measure.depth > limits.max_depth:
        message = (
            f"The query nests {measure.depth} levels deep; at most {limits.max_depth} are allowed."
        )
        errors.append(limit_error("depth", message, maximum=limits.max_depth, actual=measure.depth))
    if measure.aliases > limits.max_aliases:
        message = (
            f"The query uses {measure.aliases} aliases; at most {limits.max_aliases} are allowed."
        )
        errors.append(
            limit_error("aliases", message, maximum=limits.max_aliases, actual=measure.aliases)
        )
    if measure.cost > limits.max_cost:
        message = (
            f"The query would cost {measure.cost} (page sizes times what each item asks for);"
            f" at most {limits.max_cost} is allowed. Ask for smaller pages or fewer fields."
        )
        errors.append(limit_error("cost", message, maximum=limits.max_cost, actual=measure.cost))
    return errors


class BoundedValidation(SchemaExtension):
    """Validation within a budget, each document validated once (kept by its
    text, bounded by entries and text: graphql_api/text_cache.py).

    A document whose validation would cost more than the limit allows is
    refused before it is validated (field_merges_error); one that an earlier
    hook already refused (AccessControl) is not validated at all.
    """

    def __init__(
        self, *, limits: QueryLimits | None, verdicts: TextCache[list[GraphQLError]]
    ) -> None:
        self._limits = limits
        # Query text -> its validation errors; one cache for the schema's life.
        self._verdicts = verdicts

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        if context.pre_execution_errors is None and self._limits is not None:
            refused = field_merges_error(document, self._limits)
            if refused is not None:
                context.pre_execution_errors = [refused]
        if context.pre_execution_errors is None:
            query = context.query
            if query is not None and query in self._verdicts:
                context.pre_execution_errors = self._verdicts.get(query)
            else:
                errors = validate_document(
                    context.schema._schema, document, context.validation_rules
                )
                if query is not None:
                    self._verdicts.put(query, errors)
                context.pre_execution_errors = errors
        yield


class QueryLimitsCheck(SchemaExtension):
    """Refuses an operation over a limit before it executes; names the limit in
    `extensions`. Every operation it measured reports its cost (`extensions.cost`)."""

    def __init__(self, *, limits: QueryLimits) -> None:
        self._limits = limits
        self._measure: Measure | None = None

    def on_operation(self) -> Iterator[None]:
        # The parser itself stops at the token limit (strawberry's MaxTokensLimiter
        # sets the option); here its error gets the same code as the other limits.
        self.execution_context.parse_options["max_tokens"] = self._limits.max_tokens
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        for error in result.errors:
            if error.original_error is None and _TOKENS_MESSAGE in error.message:
                error.message = (
                    f"The query has more than {self._limits.max_tokens} tokens;"
                    " send a smaller document."
                )
                error.extensions = {
                    "code": LIMIT_CODE,
                    "limit": "tokens",
                    "maximum": self._limits.max_tokens,
                }

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        measure = measure_operation(
            context.schema._schema,
            context.graphql_document,
            operation_name=context.operation_name,
            variables=context.variables,
        )
        self._measure = measure
        if measure is not None and (errors := violations(measure, self._limits)):
            context.result = GraphQLExecutionResult(data=None, errors=errors)
        yield

    def get_results(self) -> dict[str, Any]:
        if self._measure is None:
            return {}
        return {"cost": cost_extension(self._measure.cost, self._limits.max_cost)}
