"""The client operations the check knows, and the schema coordinates each one uses.

Operations come from sources, each a list of ClientDocument: the `.graphql` files in
tests/operations/ today; a trusted-document manifest (sha256 -> document) becomes one
more source that returns the same list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLSchema,
    NamedTypeNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    type_from_ast,
    visit,
)

from graphql_api.errors import ContractSourceError


@dataclass(frozen=True)
class ClientDocument:
    origin: str  # where it came from: a file path, later a manifest entry
    document: DocumentNode


@dataclass(frozen=True)
class OperationUsage:
    name: str  # the operation's name; its origin when it has none
    origin: str
    # Coordinates written in the operation: fields read, arguments and input fields
    # passed, enum values spelled out, types named.
    written: frozenset[str]
    # Coordinates its variables can carry: any field of an input type, any enum value.
    reachable: frozenset[str]

    def uses_any(self, coordinates: Iterable[str]) -> bool:
        return any(c in self.written or c in self.reachable for c in coordinates)


def documents_in_directory(directory: Path) -> list[ClientDocument]:
    """Every `*.graphql` file in `directory`, parsed."""
    if not directory.is_dir():
        raise ContractSourceError(str(directory), "no such directory of operations")
    return [_parsed(path) for path in sorted(directory.glob("*.graphql"))]


def _parsed(path: Path) -> ClientDocument:
    try:
        return ClientDocument(str(path), parse(path.read_text()))
    except GraphQLError as error:
        raise ContractSourceError(str(path), error.message) from None


class _CoordinateCollector(Visitor):
    """Collects the coordinates a document uses while TypeInfo tracks where it is."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.written: set[str] = set()

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.type_info.get_parent_type()
        field = self.type_info.get_field_def()
        if parent is None or field is None:
            return  # not in this schema (or __typename): nothing of the contract
        coordinate = f"{parent.name}.{node.name.value}"
        self.written.update((parent.name, coordinate, get_named_type(field.type).name))
        for argument in node.arguments or ():
            self.written.add(f"{coordinate}({argument.name.value}:)")

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        self.written.add(f"@{node.name.value}")

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        directive, argument = self.type_info.get_directive(), self.type_info.get_argument()
        if directive is not None:
            self.written.add(f"@{directive.name}({node.name.value}:)")
        if argument is not None:
            # A literal passes a value of the argument's type: a required field added
            # to that input type reaches this operation too.
            self.written.add(get_named_type(argument.type).name)

    def enter_object_field(self, node: ObjectFieldNode, *_args: Any) -> None:
        parent = self.type_info.get_parent_input_type()
        if parent is not None:
            name = get_named_type(parent).name
            self.written.update((name, f"{name}.{node.name.value}"))

    def enter_enum_value(self, node: EnumValueNode, *_args: Any) -> None:
        enum_type = self.type_info.get_input_type()
        if enum_type is not None:
            name = get_named_type(enum_type).name
            self.written.update((name, f"{name}.{node.value}"))

    def enter_named_type(self, node: NamedTypeNode, *_args: Any) -> None:
        self.written.add(node.name.value)


def _reachable(schema: GraphQLSchema, operation: OperationDefinitionNode) -> set[str]:
    """What the operation's variables can carry, down through nested input objects."""
    reached: set[str] = set()
    pending: list[GraphQLNamedType] = []
    for definition in operation.variable_definitions or ():
        variable_type = type_from_ast(schema, definition.type)
        if variable_type is not None:
            pending.append(get_named_type(variable_type))
    while pending:
        named = pending.pop()
        if named.name in reached:
            continue
        reached.add(named.name)
        if isinstance(named, GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                reached.add(f"{named.name}.{field_name}")
                pending.append(get_named_type(field.type))
        elif isinstance(named, GraphQLEnumType):
            reached.update(f"{named.name}.{value}" for value in named.values)
    return reached


def _fragments_needed(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    """The fragments an operation spreads, directly or through other fragments."""
    needed: dict[str, FragmentDefinitionNode] = {}

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: Any) -> None:
            name = node.name.value
            if name in fragments and name not in needed:
                needed[name] = fragments[name]
                visit(fragments[name], self)

    visit(operation, Spreads())
    return list(needed.values())


def _usage(schema: GraphQLSchema, origin: str, document: DocumentNode) -> OperationUsage:
    type_info = TypeInfo(schema)
    collector = _CoordinateCollector(type_info)
    visit(document, TypeInfoVisitor(type_info, collector))
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    name = operation.name.value if operation.name else origin
    reachable = _reachable(schema, operation)
    return OperationUsage(name, origin, frozenset(collector.written), frozenset(reachable))


def operation_usages(
    schema: GraphQLSchema, documents: Iterable[ClientDocument]
) -> list[OperationUsage]:
    """One usage per operation (a document may hold several), read against `schema`."""
    usages = []
    for client_document in documents:
        definitions = client_document.document.definitions
        fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
        for operation in definitions:
            if isinstance(operation, OperationDefinitionNode):
                own = DocumentNode(
                    definitions=(operation, *_fragments_needed(operation, fragments))
                )
                usages.append(_usage(schema, client_document.origin, own))
    return usages
