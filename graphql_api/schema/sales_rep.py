"""The SalesRep type and a rep's book of customers."""

from __future__ import annotations

import strawberry

from graphql_api.context import Info
from graphql_api.schema.customer import Customer, from_record
from graphql_api.schema.enums import CustomerStatus, DataSource
from graphql_api.schema.pagination import CUSTOMERS, Connection, connection, requested_page
from graphql_api.stores.records import RepCustomersKey, SalesRepRecord


@strawberry.type(description="A sales rep and the customers they look after.")
class SalesRep:
    id: strawberry.ID
    first_name: str
    last_name: str

    @strawberry.field
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    email: str
    phone: str | None
    region: str | None
    active: bool = strawberry.field(description="Inactive reps take no new customers.")

    @strawberry.field(description="This rep's customers in id order.")
    async def customers(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        status: CustomerStatus | None = None,
    ) -> Connection[Customer]:
        request = requested_page(info, first=first, after=after, list_of=CUSTOMERS)
        key = RepCustomersKey(sales_rep_id=self.id, page=request, status=status)
        page = await info.context.loaders.customers_by_sales_rep.load(key)
        return connection(page, Customer.from_record)

    source: DataSource = strawberry.field(description="The store that served this object.")

    @classmethod
    def from_record(cls, record: SalesRepRecord) -> SalesRep:
        return from_record(cls, record)
