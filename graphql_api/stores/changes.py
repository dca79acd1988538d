"""What a mutation changes, decided once for every store.

Each store locks the customer, calls a `plan_*` function here and applies the
result in one transaction, so MySQL and the in-memory store agree on versions,
events and errors by construction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime

from graphql_api.errors import NotFoundError, ValidationFailedError, VersionConflictError
from graphql_api.stores.records import (
    CustomerChange,
    CustomerEventKind,
    CustomerEventRecord,
    CustomerRecord,
    CustomerStatus,
    DataSource,
    NewCustomer,
    SalesRepRecord,
)


@dataclass(frozen=True, slots=True)
class EventDraft:
    kind: CustomerEventKind
    from_sales_rep_id: str | None = None
    to_sales_rep_id: str | None = None
    from_status: CustomerStatus | None = None
    to_status: CustomerStatus | None = None


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """Field values to set (CustomerRecord names) and the events recording them:
    one change (one version), one event per thing it changed."""

    fields: dict[str, object]
    events: tuple[EventDraft, ...]


def check_found(customer: CustomerRecord | None, customer_id: str) -> CustomerRecord:
    if customer is None:
        raise NotFoundError("customer", customer_id, field="customerId")
    return customer


def check_version(customer: CustomerRecord, expected_version: int | None) -> None:
    if expected_version is not None and customer.version != expected_version:
        raise VersionConflictError(customer.id, expected_version, customer.version)


def check_assignable(rep: SalesRepRecord | None, sales_rep_id: str) -> SalesRepRecord:
    if rep is None:
        raise NotFoundError("sales rep", sales_rep_id, field="salesRepId")
    if not rep.active:
        raise ValidationFailedError(
            "salesRepId", f"sales rep {sales_rep_id!r} is inactive and takes no customers"
        )
    return rep


def plan_assign(customer: CustomerRecord, rep: SalesRepRecord) -> PlannedChange | None:
    if customer.sales_rep_id == rep.id:
        return None
    return PlannedChange(
        fields={"sales_rep_id": rep.id},
        events=(
            EventDraft(
                kind=CustomerEventKind.ASSIGNED,
                from_sales_rep_id=customer.sales_rep_id,
                to_sales_rep_id=rep.id,
            ),
        ),
    )


def plan_unassign(customer: CustomerRecord) -> PlannedChange | None:
    if customer.sales_rep_id is None:
        return None
    return PlannedChange(
        fields={"sales_rep_id": None},
        events=(
            EventDraft(kind=CustomerEventKind.UNASSIGNED, from_sales_rep_id=customer.sales_rep_id),
        ),
    )


def plan_move(customer: CustomerRecord, rep: SalesRepRecord | None) -> PlannedChange | None:
    """To the (checked) rep, or away from any."""
    return plan_unassign(customer) if rep is None else plan_assign(customer, rep)


def plan_status(customer: CustomerRecord, status: CustomerStatus) -> PlannedChange | None:
    if customer.status is status:
        return None
    return PlannedChange(
        fields={"status": status},
        events=(
            EventDraft(
                kind=CustomerEventKind.STATUS_CHANGED, from_status=customer.status, to_status=status
            ),
        ),
    )


def plan_update(customer: CustomerRecord, fields: dict[str, str | None]) -> PlannedChange | None:
    changed = {name: value for name, value in fields.items() if getattr(customer, name) != value}
    if not changed:
        return None
    return PlannedChange(fields=dict(changed), events=(EventDraft(kind=CustomerEventKind.UPDATED),))


def combined(*plans: PlannedChange | None) -> PlannedChange | None:
    """Several plans as one change: their fields together, their events in order."""
    made = [plan for plan in plans if plan is not None]
    if not made:
        return None
    fields: dict[str, object] = {}
    for plan in made:
        fields.update(plan.fields)
    return PlannedChange(fields=fields, events=tuple(e for plan in made for e in plan.events))


def apply_change(customer: CustomerRecord, plan: PlannedChange, *, at: datetime) -> CustomerRecord:
    """The customer after the change: the version counts every change."""
    return replace(customer, version=customer.version + 1, updated_at=at, **plan.fields)  # type: ignore[arg-type]


def events_for(
    plan: PlannedChange, change: CustomerChange, *, first_event_id: int, at: datetime
) -> list[CustomerEventRecord]:
    """The plan's events, numbered from first_event_id (MySQL numbers its own)."""
    return [
        _event(draft, change, event_id=first_event_id + offset, at=at)
        for offset, draft in enumerate(plan.events)
    ]


def _event(
    draft: EventDraft, change: CustomerChange, *, event_id: int, at: datetime
) -> CustomerEventRecord:
    return CustomerEventRecord(
        id=event_id,
        customer_id=change.customer_id,
        kind=draft.kind,
        at=at,
        actor=change.actor,
        from_sales_rep_id=draft.from_sales_rep_id,
        to_sales_rep_id=draft.to_sales_rep_id,
        from_status=draft.from_status,
        to_status=draft.to_status,
        note=change.note,
    )


def new_record(customer: NewCustomer, *, at: datetime, source: DataSource) -> CustomerRecord:
    """A created customer: version 1, created and updated at `at`."""
    return CustomerRecord(
        **asdict(customer), version=1, created_at=at, updated_at=at, source=source
    )


def created_event(
    customer: NewCustomer, *, actor: str | None, event_id: int, at: datetime
) -> CustomerEventRecord:
    return CustomerEventRecord(
        id=event_id,
        customer_id=customer.id,
        kind=CustomerEventKind.CREATED,
        at=at,
        actor=actor,
        from_sales_rep_id=None,
        to_sales_rep_id=customer.sales_rep_id,
        from_status=None,
        to_status=customer.status,
        note=None,
    )
