"""Which records may enter a store: the API's own input rules, applied to bulk copies.

A record that breaks one is rejected with the reason, never truncated to fit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from graphql_api import validation
from graphql_api.errors import ValidationFailedError
from graphql_api.stores.records import (
    EDITABLE_CUSTOMER_FIELDS,
    CustomerEventRecord,
    CustomerRecord,
    SalesRepRecord,
)


def _first_problem(*checks: Callable[[], object]) -> str | None:
    for check in checks:
        try:
            check()
        except ValidationFailedError as error:
            return error.message
    return None


def _required_text(field: str, value: str, max_length: int) -> None:
    if not value.strip():
        raise ValidationFailedError(field, f"{field} must not be empty")
    validation.check_text(field, value, max_length=max_length)


def sales_rep_problem(rep: SalesRepRecord) -> str | None:
    return _first_problem(
        lambda: validation.check_id("id", rep.id),
        lambda: _required_text("firstName", rep.first_name, 50),
        lambda: _required_text("lastName", rep.last_name, 50),
        lambda: validation.check_customer_field("email", rep.email),
        lambda: validation.check_text("email", rep.email, max_length=100),
        lambda: validation.check_customer_field("phone", rep.phone),
        lambda: validation.check_text("region", rep.region, max_length=50),
    )


def customer_problem(customer: CustomerRecord) -> str | None:
    checks: list[Callable[[], object]] = [lambda: validation.check_id("id", customer.id)]
    checks += [
        functools.partial(validation.check_customer_field, field, getattr(customer, field))
        for field in EDITABLE_CUSTOMER_FIELDS
    ]
    if customer.sales_rep_id is not None:
        rep_id = customer.sales_rep_id
        checks.append(lambda: validation.check_id("salesRepId", rep_id))
    if customer.version < 1:
        checks.append(lambda: _fail("version", "version starts at 1"))
    return _first_problem(*checks)


def event_problem(event: CustomerEventRecord) -> str | None:
    return _first_problem(
        lambda: validation.check_id("customerId", event.customer_id),
        lambda: validation.check_text("actor", event.actor, max_length=100),
        lambda: validation.check_note(event.note),
    )


def problem_of(record: SalesRepRecord | CustomerRecord | CustomerEventRecord) -> str | None:
    if isinstance(record, SalesRepRecord):
        return sales_rep_problem(record)
    if isinstance(record, CustomerRecord):
        return customer_problem(record)
    return event_problem(record)


def _fail(field: str, message: str) -> None:
    raise ValidationFailedError(field, message)
