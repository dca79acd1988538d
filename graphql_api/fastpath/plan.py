"""One request's plan: what to fetch and how to write each field, before any store call.

The plan follows the query, not the response: one entry per selected field,
however many objects the response will hold. graphql-core's own functions
collect the fields (fragments, aliases, @skip and @include) and coerce the
arguments, so the plan sees exactly what the reference execution sees; each
leaf gets its serializer once, here, instead of once per value.

Planning refuses (returns None) whatever the fast path leaves to the
reference execution: an argument the resolvers would reject, a field it has
no twin for, an abstract type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar

import strawberry
from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    Visitor,
    get_named_type,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.arguments import convert_arguments

from graphql_api.errors import UserInputError
from graphql_api.fastpath.documents import PreparedOperation
from graphql_api.fastpath.fields import RECORD_TYPES, RESOLVED, ResolvedField
from graphql_api.fastpath.times import utc_isoformat
from graphql_api.schema.mutations import MUTATIONS

if TYPE_CHECKING:
    from graphql_api.context import Context

Serialize = Callable[[Any], Any]


@dataclass(slots=True)
class Shape:
    """A field's output type: how a raw value becomes JSON."""

    LEAF: ClassVar[int] = 0
    LIST: ClassVar[int] = 1
    OBJECT: ClassVar[int] = 2
    ABSTRACT: ClassVar[int] = 3

    kind: int
    non_null: bool
    item: Shape | None = None
    plan: ObjectPlan | None = None
    # A union or an interface: the plan of each object type it may be.
    plans: dict[str, ObjectPlan] | None = None
    serialize: Serialize | None = None
    # A leaf whose values of exactly this type are their own JSON (a String's
    # str): writing one costs a type check, not a call to `serialize`.
    unchanged: type | None = None


@dataclass(frozen=True, slots=True)
class FieldPlan:
    key: str
    # The field's name in the schema (`key` is its alias, when it has one).
    name: str
    # A plain record field: the attribute to read (with `shape` a leaf).
    read: Callable[[Any], Any] | None
    # A field with a resolver of its own, and its prepared arguments; when they
    # come from variables, each request's are in RequestPlan.arguments instead.
    resolve: Callable[..., Any] | None
    arguments: Any
    shape: Shape
    # `__typename`: the constant it answers.
    typename: str | None = None
    per_request: bool = False
    # A mutation: the function its resolver calls, with (context, input).
    mutate: Callable[[Context, Any], Awaitable[Any]] | None = None
    # The parent record's attributes the field reads; None: not known.
    reads: frozenset[str] | None = None


ObjectPlan = tuple[FieldPlan, ...]


@dataclass(frozen=True, slots=True)
class _ArgumentSlot:
    """A field whose arguments use variables: prepared again for each request."""

    field: FieldPlan
    prepare: Callable[[VariableValues], Any]


@dataclass(frozen=True, slots=True)
class _Skeleton:
    fields: ObjectPlan
    slots: tuple[_ArgumentSlot, ...]


@dataclass(frozen=True, slots=True)
class RequestPlan:
    fields: ObjectPlan
    # id(FieldPlan) -> its prepared arguments, for the fields marked per_request.
    arguments: dict[int, Any]


_UNPLANNABLE = "unplannable"
_SKELETON = "skeleton"


class Unplannable(Exception):
    """The reference execution answers this request."""


def _passthrough(kind: type) -> Callable[[GraphQLScalarType], Serialize]:
    def choose(scalar: GraphQLScalarType) -> Serialize:
        serialize = scalar.serialize

        def fast(value: Any) -> Any:
            # The common case costs a type check; anything else takes the
            # scalar's own serializer, as graphql-core would.
            return value if type(value) is kind else serialize(value)

        return fast

    return choose


# The scalars whose values of one Python type serialize to themselves.
_UNCHANGED: dict[str, type] = {
    GraphQLString.name: str,
    GraphQLID.name: str,
    GraphQLInt.name: int,
    GraphQLBoolean.name: bool,
}
_SCALARS: dict[str, Callable[[GraphQLScalarType], Serialize]] = {
    name: _passthrough(kind) for name, kind in _UNCHANGED.items()
}
# strawberry's name for datetime.datetime, which it writes with isoformat().
_DATE_TIME = "DateTime"


def _enum_serializer(enum_type: GraphQLEnumType) -> Serialize:
    """strawberry serializes a member of the enum class it wraps by matching
    `.value`; the same lookup, made once into a dict. Keyed by the member's
    name, a str, whose hash is kept: an Enum member's own hash is a Python
    method, and a history page writes thousands of them."""
    wrapped: type[Enum] | None = getattr(enum_type, "wrapped_cls", None)
    names: dict[str, str] = {}
    if wrapped is not None:
        for name, definition in enum_type.values.items():
            for member in wrapped:
                if member.value == definition.value:
                    names.setdefault(member.name, name)
    serialize = enum_type.serialize

    def fast(value: Any) -> Any:
        name = names.get(value._name_) if type(value) is wrapped else None
        return name if name is not None else serialize(value)

    return fast


class Planner:
    """Builds request plans for one schema; remembers per-field choices."""

    def __init__(self, schema: strawberry.Schema, *, max_page_size: int) -> None:
        self._strawberry = schema
        self._schema: GraphQLSchema = schema._schema
        self._max_page_size = max_page_size
        self._serializers: dict[str, Serialize] = {}
        self._readers: dict[tuple[str, str], Callable[[Any], Any]] = {}

    def plan(self, prepared: PreparedOperation, variables: VariableValues) -> RequestPlan:
        """The plan of the whole operation; raises Unplannable.

        An operation whose selection does not depend on variables is planned
        once and kept; a request then only prepares the arguments that use
        variables. Arguments without variables are checked once: a mistake in
        them declines every request of the operation.
        """
        memo = prepared.memo
        if memo.get(_UNPLANNABLE):
            raise Unplannable("known")
        skeleton = memo.get(_SKELETON)
        if skeleton is None:
            try:
                skeleton = self._skeleton(prepared, variables)
            except Unplannable:
                if prepared.fixed_selection:
                    memo[_UNPLANNABLE] = True
                raise
            if prepared.fixed_selection:
                memo[_SKELETON] = skeleton
        arguments = {id(slot.field): slot.prepare(variables) for slot in skeleton.slots}
        return RequestPlan(skeleton.fields, arguments)

    def _skeleton(self, prepared: PreparedOperation, variables: VariableValues) -> _Skeleton:
        root = self._schema.get_root_type(prepared.operation.operation)
        assert root is not None
        collected = collect_fields(
            self._schema, prepared.fragments, variables, root, prepared.operation
        )
        request = _Request(self, prepared, variables)
        fields = request.object_plan(root, collected.grouped_field_set)
        return _Skeleton(fields, tuple(request.slots))

    def serializer(self, named: GraphQLScalarType | GraphQLEnumType) -> Serialize:
        found = self._serializers.get(named.name)
        if found is None:
            if isinstance(named, GraphQLEnumType):
                found = _enum_serializer(named)
            elif named.name in _SCALARS:
                found = _SCALARS[named.name](named)
            elif named.name == _DATE_TIME:
                found = utc_isoformat
            else:
                found = named.serialize
            self._serializers[named.name] = found
        return found

    def reader(self, parent: GraphQLObjectType, name: str) -> Callable[[Any], Any]:
        key = (parent.name, name)
        found = self._readers.get(key)
        if found is None:
            found = attrgetter(_python_name(parent.fields[name]))
            self._readers[key] = found
        return found

    @property
    def schema(self) -> GraphQLSchema:
        return self._schema

    def mutation_input(
        self, definition: GraphQLField, details: FieldDetailsList, variables: VariableValues
    ) -> Any:
        """The mutation's `input` as its resolver receives it: converted by
        strawberry's own function, as strawberry converts it."""
        try:
            given = get_argument_values(
                definition, details[0].node, variables, details[0].fragment_variable_values
            )
            converted = convert_arguments(
                given,
                definition.extensions["strawberry-definition"].arguments,
                scalar_registry=self._strawberry.schema_converter.scalar_registry,
                config=self._strawberry.config,
            )
        except (GraphQLError, ValueError, TypeError):
            raise Unplannable("mutation input") from None
        return converted["input"]

    @property
    def max_page_size(self) -> int:
        return self._max_page_size


class _Request:
    def __init__(
        self, planner: Planner, prepared: PreparedOperation, variables: VariableValues
    ) -> None:
        self._planner = planner
        self._prepared = prepared
        self._variables = variables
        self.slots: list[_ArgumentSlot] = []

    def object_plan(self, parent: GraphQLObjectType, fields: GroupedFieldSet) -> ObjectPlan:
        return tuple(self._field(parent, key, details) for key, details in fields.items())

    def _field(self, parent: GraphQLObjectType, key: str, details: FieldDetailsList) -> FieldPlan:
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            leaf = Shape(Shape.LEAF, non_null=True, serialize=str)
            return FieldPlan(
                key, name, None, None, None, leaf, typename=parent.name, reads=frozenset()
            )
        definition = parent.fields[name]
        shape = self._shape(definition.type, details)
        if parent is self._planner.schema.mutation_type:
            return self._mutation(key, name, definition, details, shape)
        resolved = RESOLVED.get(parent.name, {}).get(name)
        if resolved is None and (parent.name not in RECORD_TYPES or definition.args):
            raise Unplannable(f"{parent.name}.{name}")
        if resolved is None:
            read = self._planner.reader(parent, name)
            attribute = frozenset({_python_name(definition)})
            return FieldPlan(key, name, read, None, None, shape, reads=attribute)
        resolve = resolved.resolve
        if resolved.related is not None and _selects(shape, resolved.related[0]):
            resolve = resolved.related[1]
        if resolved.narrow is not None and _asks_only(shape, resolved.narrow[0]):
            resolve = resolved.narrow[1]
        if resolved.project is not None:
            node_reads = _node_reads(shape)
            if node_reads is not None:
                resolve = resolved.project(node_reads)
        planner = self._planner
        reads = resolved.reads
        if resolved.prepare is not None and _uses_variables(details):
            planned = FieldPlan(
                key, name, None, resolve, None, shape, per_request=True, reads=reads
            )
            self.slots.append(
                _ArgumentSlot(
                    planned,
                    lambda variables: _prepare(planner, resolved, definition, details, variables),
                )
            )
            return planned
        arguments = _prepare(planner, resolved, definition, details, self._variables)
        return FieldPlan(key, name, None, resolve, arguments, shape, reads=reads)

    def _mutation(
        self,
        key: str,
        name: str,
        definition: GraphQLField,
        details: FieldDetailsList,
        shape: Shape,
    ) -> FieldPlan:
        mutate = MUTATIONS.get(name)
        if mutate is None:
            raise Unplannable(f"Mutation.{name}")
        planner = self._planner
        if _uses_variables(details):
            planned = FieldPlan(key, name, None, None, None, shape, per_request=True, mutate=mutate)
            self.slots.append(
                _ArgumentSlot(
                    planned,
                    lambda variables: planner.mutation_input(definition, details, variables),
                )
            )
            return planned
        given = planner.mutation_input(definition, details, self._variables)
        return FieldPlan(key, name, None, None, given, shape, mutate=mutate)

    def _shape(self, output: GraphQLOutputType, details: FieldDetailsList) -> Shape:
        non_null = isinstance(output, GraphQLNonNull)
        inner = output.of_type if isinstance(output, GraphQLNonNull) else output
        if isinstance(inner, GraphQLList):
            item = self._shape(inner.of_type, details)
            return Shape(Shape.LIST, non_null=non_null, item=item)
        if isinstance(inner, GraphQLObjectType):
            collected = collect_subfields(
                self._planner.schema,
                self._prepared.fragments,
                self._variables,
                self._prepared.operation,
                inner,
                details,
            )
            plan = self.object_plan(inner, collected.grouped_field_set)
            return Shape(Shape.OBJECT, non_null=non_null, plan=plan)
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            serialize = self._planner.serializer(inner)
            unchanged = _UNCHANGED.get(inner.name) if isinstance(inner, GraphQLScalarType) else None
            return Shape(Shape.LEAF, non_null=non_null, serialize=serialize, unchanged=unchanged)
        assert isinstance(inner, GraphQLUnionType | GraphQLInterfaceType)
        plans = {}
        for possible in self._planner.schema.get_possible_types(inner):
            collected = collect_subfields(
                self._planner.schema,
                self._prepared.fragments,
                self._variables,
                self._prepared.operation,
                possible,
                details,
            )
            plans[possible.name] = self.object_plan(possible, collected.grouped_field_set)
        return Shape(Shape.ABSTRACT, non_null=non_null, plans=plans)


def _selects(shape: Shape, resolve: Callable[..., Any]) -> bool:
    """Whether an object's selection has a field resolved by `resolve`."""
    return shape.plan is not None and any(field.resolve is resolve for field in shape.plan)


def _asks_only(shape: Shape, names: frozenset[str]) -> bool:
    """Whether the objects of a field (a list's items) are asked for no field but `names`."""
    while shape.item is not None:
        shape = shape.item
    return shape.plan is not None and all(field.name in names for field in shape.plan)


def _python_name(definition: GraphQLField) -> str:
    name: str = definition.extensions["strawberry-definition"].python_name
    return name


def _reads_of(plan: ObjectPlan) -> frozenset[str] | None:
    """The record attributes an object's selection reads; None: not known."""
    reads: set[str] = set()
    for field in plan:
        if field.reads is None:
            return None
        reads |= field.reads
    return frozenset(reads)


def _node_reads(connection: Shape) -> frozenset[str] | None:
    """The record attributes a connection's selection reads of its nodes: its
    `nodes`, its edges' `node` (cursors read the id, which is always read)."""
    if connection.plan is None:
        return None
    reads: set[str] = set()
    for field in connection.plan:
        if field.name == "nodes" or field.name == "edges":
            item = field.shape.item
            if item is None or item.plan is None:
                return None
            plan = item.plan
            if field.name == "edges":
                nodes = [edge.shape.plan for edge in plan if edge.name == "node"]
                if any(node is None for node in nodes):
                    return None
                found = [_reads_of(node) for node in nodes if node is not None]
            else:
                found = [_reads_of(plan)]
            for part in found:
                if part is None:
                    return None
                reads |= part
        elif field.name not in ("pageInfo", "totalCount", "__typename"):
            return None
    return frozenset(reads)


def _uses_variables(details: FieldDetailsList) -> bool:
    found = False

    class _Finder(Visitor):
        def enter_variable(self, *_: object) -> None:
            nonlocal found
            found = True

    for argument in details[0].node.arguments or ():
        visit(argument, _Finder())
    return found or details[0].fragment_variable_values is not None


def _prepare(
    planner: Planner,
    resolved: ResolvedField,
    definition: GraphQLField,
    details: FieldDetailsList,
    variables: VariableValues,
) -> Any:
    """The field's arguments as its resolver twin takes them; raises Unplannable
    where the resolver would raise (graphql-core or a UserInputError)."""
    if resolved.prepare is None:
        return None
    try:
        given = get_argument_values(
            definition, details[0].node, variables, details[0].fragment_variable_values
        )
    except GraphQLError:
        raise Unplannable("arguments") from None
    # Input objects reach resolvers with their fields' Python names, as strawberry does.
    for name, argument in definition.args.items():
        named = get_named_type(argument.type)
        value = given.get(name)
        if isinstance(named, GraphQLInputObjectType) and isinstance(value, dict):
            given[name] = {
                named.fields[field].extensions["strawberry-definition"].python_name: inner
                for field, inner in value.items()
            }
    try:
        return resolved.prepare(given, planner.max_page_size)
    except UserInputError:
        raise Unplannable("arguments") from None
