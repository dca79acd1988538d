"""Plain records every store returns, whichever store answered.

The GraphQL layer only sees these; it learns which store served a record from
`source` alone.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar


class DataSource(enum.Enum):
    MYSQL = "MYSQL"
    DYNAMODB = "DYNAMODB"
    MEMORY = "MEMORY"


class CustomerStatus(enum.Enum):
    PROSPECT = "PROSPECT"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    CHURNED = "CHURNED"


class CustomerEventKind(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    ASSIGNED = "ASSIGNED"
    UNASSIGNED = "UNASSIGNED"
    STATUS_CHANGED = "STATUS_CHANGED"


@dataclass(frozen=True, slots=True)
class SalesRepRecord:
    id: str
    first_name: str
    last_name: str
    email: str
    phone: str | None
    region: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    source: DataSource


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    id: str
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
    sales_rep_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    source: DataSource


@dataclass(frozen=True, slots=True)
class CustomerEventRecord:
    id: int
    customer_id: str
    kind: CustomerEventKind
    at: datetime
    actor: str | None
    from_sales_rep_id: str | None
    to_sales_rep_id: str | None
    from_status: CustomerStatus | None
    to_status: CustomerStatus | None
    note: str | None


# The kinds of event that set a customer's rep: their to_sales_rep_id is the rep
# after them (None: none). Other kinds leave the rep as it was.
REP_SETTING_EVENT_KINDS = frozenset(
    {CustomerEventKind.CREATED, CustomerEventKind.ASSIGNED, CustomerEventKind.UNASSIGNED}
)


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """An event of the audit trail as the feed delivers it (stores/event_feed.py)."""

    event: CustomerEventRecord
    # The customer's rep as of this event (after it, for a move).
    sales_rep_id: str | None

    @property
    def id(self) -> int:
        return self.event.id


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a feed holds: one customer's, one rep's, or (neither set) all."""

    customer_id: str | None = None
    sales_rep_id: str | None = None

    def matches(self, feed_event: FeedEvent) -> bool:
        """A rep's events: those that move a customer to or from the rep, and those
        of a customer the rep looks after as of the event."""
        event = feed_event.event
        if self.customer_id is not None and event.customer_id != self.customer_id:
            return False
        rep = self.sales_rep_id
        return rep is None or rep in (
            event.from_sales_rep_id,
            event.to_sales_rep_id,
            feed_event.sales_rep_id,
        )


@dataclass(frozen=True, slots=True)
class FeedPage:
    """Events of a feed in event order, from just after a position."""

    events: list[FeedEvent]
    # Every event up to this position was looked at: the next page starts after it.
    end: int
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class SalesRepMove:
    """A move of a customer to the rep `sales_rep_id`, or away from any (None)."""

    sales_rep_id: str | None


@dataclass(frozen=True, slots=True)
class Assignment:
    """A customer assigned to a rep, and that rep as the write read it (under
    the write's lock): the answer shows it without reading it again."""

    customer: CustomerRecord
    sales_rep: SalesRepRecord


@dataclass(frozen=True, slots=True)
class CustomersAndReps:
    """Customers by id, and by id the reps assigned to them that exist."""

    customers: Mapping[str, CustomerRecord]
    sales_reps: Mapping[str, SalesRepRecord]


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    """Conditions on the customers list; every field set must match (AND)."""

    status: CustomerStatus | None = None
    sales_rep_id: str | None = None
    unassigned: bool | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    name_contains: str | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A page of items ordered by id: at most `first`, those with id > `after`."""

    first: int
    after: str | None = None


@dataclass(frozen=True, slots=True)
class RepCustomersKey:
    """One parent's page in a batched "customers of a sales rep" load."""

    sales_rep_id: str
    page: PageRequest
    status: CustomerStatus | None = None
    # The record fields the caller reads (Django's only()); None: every field. A
    # store may read fewer columns and leave the other fields None, or return
    # whole records. Such a page's records are partial: they prime no by-id loader.
    fields: frozenset[str] | None = None


RecordT = TypeVar("RecordT")


@dataclass(frozen=True, slots=True)
class Page(Generic[RecordT]):
    items: list[RecordT]
    has_next_page: bool
    # Matching items in the whole list, not just this page.
    total_count: int
    # Whether the page starts after a cursor, which names an item before it
    # (Relay's hasPreviousPage when paging forward with first/after).
    has_previous_page: bool


@dataclass(frozen=True, slots=True)
class NewCustomer:
    id: str
    name: str
    contact_person: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None
    status: CustomerStatus = CustomerStatus.PROSPECT
    sales_rep_id: str | None = None


# A customer's own text fields: what `update_customer` may change and
# `create_customer` takes besides id, status and rep. Each with its maximum
# length in characters, the size of its column in sql/010_schema.sql. Every
# list of these fields (input checks, sync rules, SQL) is derived from this one.
EDITABLE_CUSTOMER_FIELDS: dict[str, int] = {
    "name": 200,
    "contact_person": 100,
    "email": 100,
    "phone": 20,
    "address": 1000,
    "city": 100,
    "state": 50,
    "zip_code": 20,
    "country": 50,
}


@dataclass(frozen=True, slots=True)
class CustomerChange:
    """Who changes a customer, guarded by the version they last saw."""

    customer_id: str
    actor: str | None
    expected_version: int | None = None
    note: str | None = None
    # Only for update_customer: the editable fields to set (None clears a nullable field).
    fields: dict[str, str | None] = field(default_factory=dict)
