"""The MySQL tables: their columns and how a row becomes a record and back.

The one place that spells the columns of sales_reps, customers and
customer_events (sql/010_schema.sql creates them). The store (stores/mysql.py),
the bulk sync (sync/mysql_rows.py) and the demo seed (admin/sqlfiles.py) all
read and write rows through these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from graphql_api.stores.records import (
    CustomerEventKind,
    CustomerEventRecord,
    CustomerRecord,
    CustomerStatus,
    DataSource,
    SalesRepRecord,
)

Row = tuple[Any, ...]
RecordT = TypeVar("RecordT", SalesRepRecord, CustomerRecord, CustomerEventRecord)


@dataclass(frozen=True, slots=True)
class Table(Generic[RecordT]):
    """A table whose rows hold one kind of record; the key is the first column."""

    name: str
    columns: tuple[str, ...]
    to_row: Callable[[RecordT], Row]
    from_row: Callable[[Row], RecordT]
    key_of: Callable[[RecordT], str | int]

    @property
    def key_column(self) -> str:
        return self.columns[0]

    @property
    def column_list(self) -> str:
        """The columns as a SELECT or INSERT names them."""
        return ", ".join(self.columns)


def _names(columns: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in columns.split(","))


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def naive_utc(value: datetime) -> datetime:
    # Columns are DATETIME(6) in UTC: the session time zone is pinned to +00:00.
    return value.astimezone(UTC).replace(tzinfo=None)


def column_value(value: object) -> object:
    """An enum member as the text its column holds; anything else as it is."""
    return value.value if isinstance(value, CustomerStatus | CustomerEventKind) else value


def _status(value: str | None) -> CustomerStatus | None:
    return None if value is None else CustomerStatus(value)


def _rep_row(rep: SalesRepRecord) -> Row:
    return (
        rep.id,
        rep.first_name,
        rep.last_name,
        rep.email,
        rep.phone,
        rep.region,
        rep.active,
        naive_utc(rep.created_at),
        naive_utc(rep.updated_at),
    )


def _rep(row: Row) -> SalesRepRecord:
    return SalesRepRecord(
        id=row[0],
        first_name=row[1],
        last_name=row[2],
        email=row[3],
        phone=row[4],
        region=row[5],
        active=bool(row[6]),
        created_at=utc(row[7]),
        updated_at=utc(row[8]),
        source=DataSource.MYSQL,
    )


def _customer_row(customer: CustomerRecord) -> Row:
    return (
        customer.id,
        customer.name,
        customer.contact_person,
        customer.email,
        customer.phone,
        customer.address,
        customer.city,
        customer.state,
        customer.zip_code,
        customer.country,
        customer.status.value,
        customer.sales_rep_id,
        customer.version,
        naive_utc(customer.created_at),
        naive_utc(customer.updated_at),
    )


def _customer(row: Row) -> CustomerRecord:
    return CustomerRecord(
        id=row[0],
        name=row[1],
        contact_person=row[2],
        email=row[3],
        phone=row[4],
        address=row[5],
        city=row[6],
        state=row[7],
        zip_code=row[8],
        country=row[9],
        status=CustomerStatus(row[10]),
        sales_rep_id=row[11],
        version=int(row[12]),
        created_at=utc(row[13]),
        updated_at=utc(row[14]),
        source=DataSource.MYSQL,
    )


def _event_row(event: CustomerEventRecord) -> Row:
    return (
        event.id,
        event.customer_id,
        event.kind.value,
        naive_utc(event.at),
        event.actor,
        event.from_sales_rep_id,
        event.to_sales_rep_id,
        column_value(event.from_status),
        column_value(event.to_status),
        event.note,
    )


def _event(row: Row) -> CustomerEventRecord:
    return CustomerEventRecord(
        id=int(row[0]),
        customer_id=row[1],
        kind=CustomerEventKind(row[2]),
        at=utc(row[3]),
        actor=row[4],
        from_sales_rep_id=row[5],
        to_sales_rep_id=row[6],
        from_status=_status(row[7]),
        to_status=_status(row[8]),
        note=row[9],
    )


def _rep_id(rep: SalesRepRecord) -> str:
    return rep.id


def _customer_id(customer: CustomerRecord) -> str:
    return customer.id


def _event_id(event: CustomerEventRecord) -> int:
    return event.id


# The columns in the order to_row and from_row hold them.
SALES_REPS: Table[SalesRepRecord] = Table(
    name="sales_reps",
    columns=_names(
        "sales_rep_id, first_name, last_name, email, phone, region, active, created_at, updated_at"
    ),
    to_row=_rep_row,
    from_row=_rep,
    key_of=_rep_id,
)
CUSTOMERS: Table[CustomerRecord] = Table(
    name="customers",
    columns=_names(
        "customer_id, name, contact_person, email, phone, address, city, state,"
        " zip_code, country, status, assigned_sales_rep_id, version, created_at,"
        " updated_at"
    ),
    to_row=_customer_row,
    from_row=_customer,
    key_of=_customer_id,
)
# event_id is AUTO_INCREMENT: a new event's row leaves it out (columns[1:]).
EVENTS: Table[CustomerEventRecord] = Table(
    name="customer_events",
    columns=_names(
        "event_id, customer_id, kind, occurred_at, actor, from_sales_rep_id,"
        " to_sales_rep_id, from_status, to_status, note"
    ),
    to_row=_event_row,
    from_row=_event,
    key_of=_event_id,
)

# CustomerRecord fields whose column has another name; the others share theirs.
_CUSTOMER_COLUMN_NAMES = {"id": "customer_id", "sales_rep_id": "assigned_sales_rep_id"}


def customer_column(field: str) -> str:
    """The column of a CustomerRecord field, for the fields a mutation sets."""
    return _CUSTOMER_COLUMN_NAMES.get(field, field)
