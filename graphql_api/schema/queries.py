"""Read entry points: a customer, the customers list, a rep, the reps list."""

from __future__ import annotations

import strawberry

from graphql_api import validation
from graphql_api.context import Info
from graphql_api.errors import UserInputError, ValidationFailedError
from graphql_api.loaders import CustomerSearchKey
from graphql_api.schema.customer import Customer, CustomerFilter
from graphql_api.schema.pagination import Connection, connection, page_request
from graphql_api.schema.sales_rep import SalesRep
from graphql_api.stores import records


def id_argument(argument: str, value: str) -> str:
    try:
        return validation.check_id(argument, value)
    except ValidationFailedError as error:
        raise UserInputError(argument, error.message) from None


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


@strawberry.type
class Query:
    @strawberry.field(description="A customer by id; null when there is none.")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        record = await info.context.loaders.customer_by_id.load(id_argument("id", id))
        return None if record is None else Customer.from_record(record)

    @strawberry.field(description="Customers in id order, optionally filtered.")
    async def customers(
        self,
        info: Info,
        filter: CustomerFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[Customer]:
        request = page_request(
            first=first, after=after, max_page_size=info.context.settings.max_page_size
        )
        key = CustomerSearchKey(where=customer_filter(filter), page=request)
        page = await info.context.loaders.customer_search.load(key)
        return connection(page, Customer.from_record)

    @strawberry.field(description="A sales rep by id; null when there is none.")
    async def sales_rep(self, info: Info, id: strawberry.ID) -> SalesRep | None:
        record = await info.context.loaders.sales_rep_by_id.load(id_argument("id", id))
        return None if record is None else SalesRep.from_record(record)

    @strawberry.field(description="Sales reps in id order.")
    async def sales_reps(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Connection[SalesRep]:
        request = page_request(
            first=first, after=after, max_page_size=info.context.settings.max_page_size
        )
        page = await info.context.loaders.sales_rep_page.load(request)
        return connection(page, SalesRep.from_record)
