"""The MySQL tables: their columns and how a row becomes a record and back.

The one place that spells the columns of sales_reps, customers and
customer_events (sql/010_schema.sql creates them). The store (stores/mysql.py),
the bulk sync (sync/mysql_rows.py) and the demo seed (admin/sqlfiles.py) all
read and write rows through these.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from graphql_api.stores import records

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Row = tuple[Any, ...]
RecordT = TypeVar(
    "RecordT", records.SalesRepRecord, records.CustomerRecord, records.CustomerEventRecord
)


def _fields(record: type[DataclassInstance]) -> tuple[str, ...]:
    """A record's fields that are columns: all but `source`, which store served it."""
    return tuple(field.name for field in dataclasses.fields(record) if field.name != "source")


@dataclass(frozen=True, slots=True)
class Table(Generic[RecordT]):
    """A table whose rows hold one kind of record: a column per record field, in
    the record's field order, the key (the record's id) first."""

    name: str
    columns: tuple[str, ...]
    record: type[RecordT]
    # How a column's value becomes its field's, where it is not the value itself.
    readers: Mapping[str, Callable[[Any], object]]
    # The record's fields the columns hold, in the same order.
    fields: tuple[str, ...] = dataclasses.field(init=False)

    # (position, reader) of the columns that have a reader; whether the record
    # ends with `source`.
    _readers_by_position: tuple[tuple[int, Callable[[Any], object]], ...] = dataclasses.field(
        init=False
    )
    _with_source: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        stored: tuple[str, ...] = _fields(self.record)
        object.__setattr__(self, "fields", stored)
        assert len(self.columns) == len(stored), self.name
        readers = tuple(
            (position, self.readers[name])
            for position, name in enumerate(stored)
            if name in self.readers
        )
        object.__setattr__(self, "_readers_by_position", readers)
        every = tuple(field.name for field in dataclasses.fields(self.record))
        with_source = every[-1:] == ("source",)
        # from_row builds records by position: the columns, then `source`.
        expected = (*stored, "source") if with_source else stored
        assert every == expected, self.name
        object.__setattr__(self, "_with_source", with_source)

    @property
    def key_column(self) -> str:
        return self.columns[0]

    @property
    def column_list(self) -> str:
        """The columns as a SELECT or INSERT names them."""
        return ", ".join(self.columns)

    def column_of(self, field: str) -> str:
        return self.columns[self.fields.index(field)]

    def to_row(self, record: RecordT) -> Row:
        return tuple(column_value(getattr(record, field)) for field in self.fields)

    def from_row(self, row: Row) -> RecordT:
        """A record from a row that starts with the table's columns (more may follow).

        By position, with each column's reader found once: a list page or a
        history reads thousands of rows per request."""
        values: list[Any] = list(row[: len(self.fields)])
        for position, reader in self._readers_by_position:
            value = values[position]
            if value is not None:
                values[position] = reader(value)
        if self._with_source:
            values.append(records.DataSource.MYSQL)
        return self.record(*values)

    @staticmethod
    def key_of(record: RecordT) -> str | int:
        return record.id


def _names(columns: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in columns.split(","))


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


# A DATETIME column's value as an aware UTC time. A partial, not a function of
# our own: it calls the C method without a Python frame (thousands per page).
utc: Callable[[datetime], datetime] = partial(datetime.replace, tzinfo=UTC)


def naive_utc(value: datetime) -> datetime:
    # Columns are DATETIME(6) in UTC: the session time zone is pinned to +00:00.
    return value.astimezone(UTC).replace(tzinfo=None)


def column_value(value: object) -> object:
    """A field's value as its column holds it: enums as their text, times as naive UTC."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return naive_utc(value)
    return value


def _member(enum: type[Enum]) -> Callable[[Any], object]:
    """The enum member with a column's text: a dict lookup, where calling the
    enum class costs a microsecond a value."""
    return {member.value: member for member in enum}.__getitem__


SALES_REPS: Table[records.SalesRepRecord] = Table(
    name="sales_reps",
    columns=_names(
        "sales_rep_id, first_name, last_name, email, phone, region, active, created_at, updated_at"
    ),
    record=records.SalesRepRecord,
    readers={"active": bool, "created_at": utc, "updated_at": utc},
)
CUSTOMERS: Table[records.CustomerRecord] = Table(
    name="customers",
    columns=_names(
        "customer_id, name, contact_person, email, phone, address, city, state,"
        " zip_code, country, status, assigned_sales_rep_id, version, created_at,"
        " updated_at"
    ),
    record=records.CustomerRecord,
    readers={
        "status": _member(records.CustomerStatus),
        "version": int,
        "created_at": utc,
        "updated_at": utc,
    },
)
# event_id is AUTO_INCREMENT: a new event's row leaves it out (columns[1:]).
EVENTS: Table[records.CustomerEventRecord] = Table(
    name="customer_events",
    columns=_names(
        "event_id, customer_id, kind, occurred_at, actor, from_sales_rep_id, to_sales_rep_id,"
        " from_status, to_status, note"
    ),
    record=records.CustomerEventRecord,
    readers={
        "id": int,
        "kind": _member(records.CustomerEventKind),
        "at": utc,
        "from_status": _member(records.CustomerStatus),
        "to_status": _member(records.CustomerStatus),
    },
)
