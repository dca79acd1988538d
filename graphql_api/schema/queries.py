"""Read entry points: a customer, the customers list, a rep, the reps list."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry

from graphql_api.context import Info
from graphql_api.loaders import CustomerSearchKey
from graphql_api.schema.arguments import id_argument as id_argument  # fastpath's import
from graphql_api.schema.customer import Customer, CustomerFilter
from graphql_api.schema.feed import CustomerEventFeed, customer_events_page
from graphql_api.schema.pagination import (
    CUSTOMERS,
    SALES_REPS,
    Connection,
    connection,
    requested_page,
)
from graphql_api.schema.sales_rep import SalesRep
from graphql_api.stores import records

_RecordT = TypeVar("_RecordT")
_NodeT = TypeVar("_NodeT")


def customer_filter(where: CustomerFilter | None) -> records.CustomerFilter:
    if where is None:
        return records.CustomerFilter()
    rep_id = where.sales_rep_id
    return records.CustomerFilter(
        status=where.status,
        sales_rep_id=None if rep_id is None else id_argument("filter.salesRepId", rep_id),
        unassigned=where.unassigned,
        country=where.country,
        state=where.state,
        city=where.city,
        name_contains=where.name_contains,
    )


def _node(record: _RecordT | None, to_node: Callable[[_RecordT], _NodeT]) -> _NodeT | None:
    return None if record is None else to_node(record)


@strawberry.type
class Query:
    @strawberry.field(description="A customer by id; null when there is none.")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        loader = info.context.loaders.customer_by_id
        return _node(await loader.load(id_argument("id", id)), Customer.from_record)

    @strawberry.field(description="Customers in id order, optionally filtered.")
    async def customers(
        self,
        info: Info,
        filter: CustomerFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[Customer]:
        request = requested_page(info, first=first, after=after, list_of=CUSTOMERS)
        key = CustomerSearchKey(where=customer_filter(filter), page=request)
        page = await info.context.loaders.customer_search.load(key)
        return connection(page, Customer.from_record)

    @strawberry.field(description="A sales rep by id; null when there is none.")
    async def sales_rep(self, info: Info, id: strawberry.ID) -> SalesRep | None:
        return _node(
            await info.context.loaders.sales_rep_by_id.load(id_argument("id", id)),
            SalesRep.from_record,
        )

    @strawberry.field(description="Sales reps in id order.")
    async def sales_reps(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Connection[SalesRep]:
        request = requested_page(info, first=first, after=after, list_of=SALES_REPS)
        page = await info.context.loaders.sales_rep_page.load(request)
        return connection(page, SalesRep.from_record)

    customer_events: CustomerEventFeed = strawberry.field(
        resolver=customer_events_page,
        description="Changes to customers, oldest first, after the cursor `after`: one"
        " customer's (customerId), one rep's (salesRepId) or all. The same feed and"
        " cursors as the customerEvents subscription, for clients without websockets.",
    )
