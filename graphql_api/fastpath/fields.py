"""How the fast path resolves each field of the schema, from records.

The fast path builds response objects straight from the records the loaders
return, so every field the schema resolves with code of its own (the
resolvers in schema/) has its twin here: the same argument checks (the very
functions the resolvers call) and the same loader, called with the same key.
Plain fields of a record type (`Customer.name`) need no entry: they read the
record's attribute of the same Python name. The differential test
(tests/test_fastpath_differential.py) holds the twins to the resolvers.

Arguments are prepared once per request, before any store call: a mistake in
them (`first` over the cap, a foreign cursor) raises UserInputError, and the
reference execution then answers with its error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql_api.loaders import CustomerSearchKey, HistoriesKey, Loaders
from graphql_api.schema.customer import CustomerFilter
from graphql_api.schema.pagination import (
    CUSTOMERS,
    SALES_REPS,
    encode_cursor,
    page_request,
    page_size,
)
from graphql_api.schema.queries import customer_filter, id_argument
from graphql_api.stores.records import Page, RepCustomersKey

# (arguments as graphql-core coerced them, max page size) -> what resolve needs
Prepare = Callable[[Mapping[str, Any], int], Any]
# (parent values, prepared arguments, loaders) -> per parent, the value or a
# loader future; or one loader future of every parent's value, in order.
Resolve = Callable[[Sequence[Any], Any, Loaders], Any]


@dataclass(frozen=True, slots=True)
class ResolvedField:
    resolve: Resolve
    prepare: Prepare | None = None
    # Look-ahead, as Django's select_related: when the field's own selection
    # has a field resolved by `related[0]`, the field resolves with
    # `related[1]`, which reads both in one store call.
    related: tuple[Resolve, Resolve] | None = None
    # Look-ahead the other way, as Django's only(): when the field's own
    # selection asks for no field but `narrow[0]`, the field resolves with
    # `narrow[1]`, which may leave every other field out of what it reads.
    narrow: tuple[frozenset[str], Resolve] | None = None
    # The parent record's attributes `resolve` reads; None: not known, so a
    # page of parents is read whole (see `project`).
    reads: frozenset[str] | None = None
    # Look-ahead into a page (Django's only()): given every record attribute the
    # page's nodes are read for, a resolve that may read only those columns.
    project: Callable[[frozenset[str]], Resolve] | None = None


def _id(arguments: Mapping[str, Any], max_page_size: int) -> str:
    return id_argument("id", arguments["id"])


def _page(arguments: Mapping[str, Any], max_page_size: int, list_of: str) -> Any:
    return page_request(
        first=arguments["first"],
        after=arguments["after"],
        max_page_size=max_page_size,
        list_of=list_of,
    )


def _reps_page(arguments: Mapping[str, Any], max_page_size: int) -> Any:
    return _page(arguments, max_page_size, SALES_REPS)


def _rep_customers(arguments: Mapping[str, Any], max_page_size: int) -> Any:
    return _page(arguments, max_page_size, CUSTOMERS), arguments["status"]


def _customer_search(arguments: Mapping[str, Any], max_page_size: int) -> CustomerSearchKey:
    # The planner gave the filter's fields their Python names, as strawberry does.
    given = arguments["filter"]
    where = None if given is None else CustomerFilter(**given)
    return CustomerSearchKey(
        where=customer_filter(where), page=_page(arguments, max_page_size, CUSTOMERS)
    )


def _history_size(arguments: Mapping[str, Any], max_page_size: int) -> int:
    return page_size(arguments["first"], max_page_size=max_page_size)


def _each(value_of: Callable[[Any], Any]) -> Resolve:
    """A field whose value is in hand: the same for every parent, by its own rule."""

    def resolve(parents: Sequence[Any], _: Any, __: Loaders) -> list[Any]:
        return [value_of(parent) for parent in parents]

    return resolve


def _root(load: Callable[[Loaders, Any], Any]) -> Resolve:
    """A Query field: one parent (the root), one load with the prepared key."""

    def resolve(parents: Sequence[Any], key: Any, loaders: Loaders) -> list[Any]:
        return [load(loaders, key)]

    return resolve


def _rep_by(attribute: str) -> Resolve:
    def resolve(parents: Sequence[Any], _: Any, loaders: Loaders) -> list[Any]:
        # A rep's customers share one rep: one load per distinct id.
        load = loaders.sales_rep_by_id.load
        loads: dict[str, Any] = {}
        found: list[Any] = []
        for parent in parents:
            rep_id = getattr(parent, attribute)
            if rep_id is None:
                found.append(None)
                continue
            rep = loads.get(rep_id)
            if rep is None:
                rep = loads[rep_id] = load(rep_id)
            found.append(rep)
        return found

    return resolve


def _history(parents: Sequence[Any], size: int, loaders: Loaders) -> Any:
    # One load for the whole level (see HistoriesLoader).
    key = HistoriesKey(tuple([customer.id for customer in parents]), size)
    return loaders.histories.load(key)


def _history_without_details(parents: Sequence[Any], size: int, loaders: Loaders) -> Any:
    key = HistoriesKey(tuple([customer.id for customer in parents]), size, details=False)
    return loaders.histories.load(key)


# The CustomerEvent fields a history without details answers: what and when.
_EVENT_CORE_FIELDS = frozenset({"__typename", "kind", "at"})


def _rep_customers_page(fields: frozenset[str] | None = None) -> Resolve:
    def resolve(parents: Sequence[Any], prepared: Any, loaders: Loaders) -> list[Any]:
        load = loaders.customers_by_sales_rep.load
        page, status = prepared
        return [load(RepCustomersKey(rep.id, page, status, fields)) for rep in parents]

    return resolve


def _start_cursor(page: Page[Any]) -> str | None:
    return encode_cursor(page.items[0]) if page.items else None


def _end_cursor(page: Page[Any]) -> str | None:
    return encode_cursor(page.items[-1]) if page.items else None


_CONNECTION: dict[str, ResolvedField] = {
    "edges": ResolvedField(_each(attrgetter("items"))),
    "nodes": ResolvedField(_each(attrgetter("items"))),
    "pageInfo": ResolvedField(_each(lambda page: page)),
    "totalCount": ResolvedField(_each(attrgetter("total_count"))),
}
_EDGE: dict[str, ResolvedField] = {
    "cursor": ResolvedField(_each(encode_cursor)),
    "node": ResolvedField(_each(lambda record: record)),
}

_customer_rep = _rep_by("sales_rep_id")

# Type name -> field name -> how it resolves; plain record fields are not listed.
RESOLVED: dict[str, dict[str, ResolvedField]] = {
    "Query": {
        "customer": ResolvedField(
            _root(lambda loaders, key: loaders.customer_by_id.load(key)),
            _id,
            related=(
                _customer_rep,
                _root(lambda loaders, key: loaders.customer_and_rep_by_id.load(key)),
            ),
        ),
        "salesRep": ResolvedField(
            _root(lambda loaders, key: loaders.sales_rep_by_id.load(key)), _id
        ),
        "customers": ResolvedField(
            _root(lambda loaders, key: loaders.customer_search.load(key)), _customer_search
        ),
        "salesReps": ResolvedField(
            _root(lambda loaders, key: loaders.sales_rep_page.load(key)), _reps_page
        ),
    },
    "Customer": {
        "salesRep": ResolvedField(_customer_rep, reads=frozenset({"sales_rep_id"})),
        "history": ResolvedField(
            _history,
            _history_size,
            narrow=(_EVENT_CORE_FIELDS, _history_without_details),
            reads=frozenset({"id"}),
        ),
    },
    "CustomerEvent": {
        "fromSalesRep": ResolvedField(_rep_by("from_sales_rep_id")),
        "toSalesRep": ResolvedField(_rep_by("to_sales_rep_id")),
    },
    "SalesRep": {
        "fullName": ResolvedField(_each(lambda rep: f"{rep.first_name} {rep.last_name}")),
        "customers": ResolvedField(
            _rep_customers_page(), _rep_customers, project=_rep_customers_page
        ),
    },
    "CustomerConnection": _CONNECTION,
    "SalesRepConnection": _CONNECTION,
    "CustomerEdge": _EDGE,
    "SalesRepEdge": _EDGE,
    "PageInfo": {
        "hasNextPage": ResolvedField(_each(attrgetter("has_next_page"))),
        "hasPreviousPage": ResolvedField(_each(attrgetter("has_previous_page"))),
        "startCursor": ResolvedField(_each(_start_cursor)),
        "endCursor": ResolvedField(_each(_end_cursor)),
    },
}

# Types whose values are records (or strawberry objects with the same
# attributes): a field not in RESOLVED reads the attribute.
RECORD_TYPES = frozenset(
    {
        "Customer",
        "SalesRep",
        "CustomerEvent",
        "NotFoundError",
        "ValidationError",
        "VersionConflictError",
        "AlreadyExistsError",
    }
)
