"""The Customer type, its history and the customers list filter."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from graphql_api.context import Info
from graphql_api.loaders import EventsKey
from graphql_api.schema.enums import CustomerEventKind, CustomerStatus, DataSource
from graphql_api.schema.pagination import page_size
from graphql_api.stores.records import CustomerEventRecord, CustomerRecord

if TYPE_CHECKING:
    from graphql_api.schema.sales_rep import SalesRep

_SalesRep = Annotated["SalesRep", strawberry.lazy("graphql_api.schema.sales_rep")]
_TypeT = TypeVar("_TypeT")


def from_record(graphql_type: type[_TypeT], record: Any) -> _TypeT:
    """The GraphQL object of a record: each of the type's fields (its private ones
    too) is the record's field of the same name; an ID is the plain string."""
    names = [field.name for field in dataclasses.fields(graphql_type) if field.init]  # type: ignore[arg-type]
    return graphql_type(**{name: getattr(record, name) for name in names})


async def _sales_rep(info: Info, sales_rep_id: str | None) -> SalesRep | None:
    from graphql_api.schema.sales_rep import SalesRep

    if sales_rep_id is None:
        return None
    record = await info.context.loaders.sales_rep_by_id.load(sales_rep_id)
    return None if record is None else SalesRep.from_record(record)


@strawberry.type(description="One change in a customer's history (the audit trail).")
class CustomerEvent:
    kind: CustomerEventKind
    at: datetime
    actor: str | None = strawberry.field(description="Who made the change.")
    note: str | None
    from_status: CustomerStatus | None
    to_status: CustomerStatus | None
    from_sales_rep_id: strawberry.Private[str | None]
    to_sales_rep_id: strawberry.Private[str | None]

    @strawberry.field
    async def from_sales_rep(self, info: Info) -> _SalesRep | None:
        return await _sales_rep(info, self.from_sales_rep_id)

    @strawberry.field
    async def to_sales_rep(self, info: Info) -> _SalesRep | None:
        return await _sales_rep(info, self.to_sales_rep_id)

    @classmethod
    def from_record(cls, record: CustomerEventRecord) -> CustomerEvent:
        return from_record(cls, record)


@strawberry.type(description="A customer and the sales rep who looks after it.")
class Customer:
    id: strawberry.ID
    name: str
    contact_person: str | None
    email: str | None
    phone: str | None
    address: str | None
    city: str | None
    state: str | None
    zip_code: str | None
    country: str | None
    status: CustomerStatus
    sales_rep_id: strawberry.Private[str | None]

    @strawberry.field(description="The rep who looks after this customer, if any.")
    async def sales_rep(self, info: Info) -> _SalesRep | None:
        return await _sales_rep(info, self.sales_rep_id)

    @strawberry.field(description="Changes to this customer, newest first.")
    async def history(self, info: Info, first: int | None = 50) -> list[CustomerEvent]:
        size = page_size(first, max_page_size=info.context.settings.max_page_size)
        events = await info.context.loaders.events_by_customer.load(EventsKey(self.id, size))
        return [CustomerEvent.from_record(event) for event in events]

    version: int = strawberry.field(
        description="Starts at 1 and grows by one with every change; "
        "pass it as expectedVersion to refuse a stale write."
    )
    created_at: datetime
    updated_at: datetime
    source: DataSource = strawberry.field(description="The store that served this object.")

    @classmethod
    def from_record(cls, record: CustomerRecord) -> Customer:
        return from_record(cls, record)


@strawberry.input(description="Conditions on the customers list; all given must hold.")
class CustomerFilter:
    status: CustomerStatus | None = None
    sales_rep_id: strawberry.ID | None = None
    unassigned: bool | None = strawberry.field(
        default=None, description="true: only customers without a rep; false: only with one."
    )
    country: str | None = None
    state: str | None = None
    city: str | None = None
    name_contains: str | None = strawberry.field(
        default=None, description="A case-insensitive part of the name."
    )
