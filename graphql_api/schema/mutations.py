"""Write entry points. Input is validated before any store is touched; each
write is one transaction in the writer store, recorded in the customer's history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import strawberry

from graphql_api import validation
from graphql_api.context import Context, Info
from graphql_api.errors import GraphqlApiError
from graphql_api.schema.customer import Customer
from graphql_api.schema.enums import CustomerStatus
from graphql_api.schema.user_errors import CustomerResult, ExpectedFailure, user_error
from graphql_api.stores.records import (
    EDITABLE_CUSTOMER_FIELDS,
    CustomerChange,
    CustomerRecord,
    NewCustomer,
    SalesRepMove,
)


@strawberry.input
class AssignCustomerInput:
    customer_id: strawberry.ID
    sales_rep_id: strawberry.ID
    expected_version: int | None = None
    note: str | None = None


@strawberry.input
class UnassignCustomerInput:
    customer_id: strawberry.ID
    expected_version: int | None = None
    note: str | None = None


@strawberry.input
class UpdateCustomerStatusInput:
    customer_id: strawberry.ID
    status: CustomerStatus
    expected_version: int | None = None
    note: str | None = None
    sales_rep_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Also moves the customer to this rep (null: away from any), in the same"
        " change: both or neither. Left out, the rep stays.",
    )


@strawberry.input
class CreateCustomerInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="Left out, the server makes one (at most 20 characters)."
    )
    name: str
    contact_person: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None
    status: CustomerStatus | None = CustomerStatus.PROSPECT
    sales_rep_id: strawberry.ID | None = None


@strawberry.input(description="Fields left out stay as they are; null clears a field.")
class UpdateCustomerInput:
    customer_id: strawberry.ID
    expected_version: int | None = None
    name: str | None = strawberry.UNSET
    contact_person: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    state: str | None = strawberry.UNSET
    zip_code: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET


_ChangeInput = (
    AssignCustomerInput | UnassignCustomerInput | UpdateCustomerStatusInput | UpdateCustomerInput
)


def _change(
    context: Context, input: _ChangeInput, fields: dict[str, str | None] | None = None
) -> CustomerChange:
    """The checked change an input asks for, by the request's actor."""
    return CustomerChange(
        customer_id=validation.check_id("customerId", input.customer_id),
        actor=context.actor,
        expected_version=validation.check_expected_version(input.expected_version),
        note=validation.check_note(getattr(input, "note", None)),
        fields=fields or {},
    )


def _checked_text_fields(
    input: CreateCustomerInput | UpdateCustomerInput,
) -> dict[str, str | None]:
    """The customer's own text fields the input sets (an update leaves some out), checked."""
    return {
        field: validation.check_customer_field(field, getattr(input, field))
        for field in EDITABLE_CUSTOMER_FIELDS
        if getattr(input, field) is not strawberry.UNSET
    }


async def _customer_result(
    context: Context, write: Callable[[], Awaitable[CustomerRecord]]
) -> CustomerResult:
    """Run a write; expected failures become typed results, anything else raises."""
    try:
        record = await write()
    except ExpectedFailure as failure:
        return user_error(cast(GraphqlApiError, failure))
    context.loaders.forget_customer(record)
    return Customer.from_record(record)


# One function per mutation, called by the resolvers below and by the fast path
# (graphql_api/fastpath/), so both write alike.


async def assign_customer(context: Context, input: AssignCustomerInput) -> CustomerResult:
    async def write() -> CustomerRecord:
        change = _change(context, input)
        rep_id = validation.check_id("salesRepId", input.sales_rep_id)
        assignment = await context.writer.assign_customer(change=change, sales_rep_id=rep_id)
        # The answer's salesRep is the rep the write read under its lock.
        rep = assignment.sales_rep
        context.loaders.sales_rep_by_id.prime(rep.id, rep)
        return assignment.customer

    return await _customer_result(context, write)


async def unassign_customer(context: Context, input: UnassignCustomerInput) -> CustomerResult:
    async def write() -> CustomerRecord:
        return await context.writer.unassign_customer(change=_change(context, input))

    return await _customer_result(context, write)


async def update_customer_status(
    context: Context, input: UpdateCustomerStatusInput
) -> CustomerResult:
    async def write() -> CustomerRecord:
        change = _change(context, input)
        move = None
        if input.sales_rep_id is not strawberry.UNSET:
            rep_id = input.sales_rep_id
            checked = None if rep_id is None else validation.check_id("salesRepId", rep_id)
            move = SalesRepMove(checked)
        return await context.writer.update_customer_status(
            change=change, status=input.status, sales_rep=move
        )

    return await _customer_result(context, write)


async def create_customer(context: Context, input: CreateCustomerInput) -> CustomerResult:
    async def write() -> CustomerRecord:
        texts = _checked_text_fields(input)
        customer = NewCustomer(
            id=validation.check_id("id", input.id)
            if input.id is not None
            else validation.new_customer_id(),
            status=input.status or CustomerStatus.PROSPECT,
            sales_rep_id=None
            if input.sales_rep_id is None
            else validation.check_id("salesRepId", input.sales_rep_id),
            **texts,  # type: ignore[arg-type]
        )
        return await context.writer.create_customer(customer=customer, actor=context.actor)

    return await _customer_result(context, write)


async def update_customer(context: Context, input: UpdateCustomerInput) -> CustomerResult:
    async def write() -> CustomerRecord:
        change = _change(context, input, _checked_text_fields(input))
        return await context.writer.update_customer(change=change)

    return await _customer_result(context, write)


_Mutate = Callable[[Context, Any], Awaitable[CustomerResult]]


async def _settled_or_run(info: Info, mutate: _Mutate, input: Any) -> CustomerResult:
    """The outcome the fast path already has for this field, if it handed the
    request on after writing (a write is never tried twice); else the write."""
    settled = info.context.settled_mutations.pop(str(info.path.key), None)
    if settled is None:
        return await mutate(info.context, input)
    if isinstance(settled, BaseException):
        raise settled
    return cast(CustomerResult, settled)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Give a customer to an active sales rep.")
    async def assign_customer(self, info: Info, input: AssignCustomerInput) -> CustomerResult:
        return await _settled_or_run(info, assign_customer, input)

    @strawberry.mutation(description="Take a customer away from its sales rep.")
    async def unassign_customer(self, info: Info, input: UnassignCustomerInput) -> CustomerResult:
        return await _settled_or_run(info, unassign_customer, input)

    @strawberry.mutation(description="Move a customer to another status.")
    async def update_customer_status(
        self, info: Info, input: UpdateCustomerStatusInput
    ) -> CustomerResult:
        return await _settled_or_run(info, update_customer_status, input)

    @strawberry.mutation(description="Add a customer; its history starts with CREATED.")
    async def create_customer(self, info: Info, input: CreateCustomerInput) -> CustomerResult:
        return await _settled_or_run(info, create_customer, input)

    @strawberry.mutation(description="Change a customer's own fields.")
    async def update_customer(self, info: Info, input: UpdateCustomerInput) -> CustomerResult:
        return await _settled_or_run(info, update_customer, input)


# GraphQL field name -> the function its resolver calls.
MUTATIONS: dict[str, _Mutate] = {
    "assignCustomer": assign_customer,
    "unassignCustomer": unassign_customer,
    "updateCustomerStatus": update_customer_status,
    "createCustomer": create_customer,
    "updateCustomer": update_customer,
}
