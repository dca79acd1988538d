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
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from asyncmy.constants import FIELD_TYPE

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

    # A record from a row that starts with the table's columns (more may
    # follow); generated from the columns and readers (_row_reader).
    from_row: Callable[[Row], RecordT] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        stored: tuple[str, ...] = _fields(self.record)
        object.__setattr__(self, "fields", stored)
        assert len(self.columns) == len(stored), self.name
        every = tuple(field.name for field in dataclasses.fields(self.record))
        with_source = every[-1:] == ("source",)
        # from_row builds records by position: the columns, then `source`.
        expected = (*stored, "source") if with_source else stored
        assert every == expected, self.name
        object.__setattr__(self, "from_row", _row_reader(self, with_source=with_source))

    @property
    def key_column(self) -> str:
        return self.columns[0]

    @property
    def column_list(self) -> str:
        """The columns as a SELECT or INSERT names them."""
        return ", ".join(self.columns)

    def columns_as(self, alias: str) -> str:
        """The columns as a SELECT names them from the table under `alias`."""
        return ", ".join(f"{alias}.{column}" for column in self.columns)

    def column_of(self, field: str) -> str:
        return self.columns[self.fields.index(field)]

    def leading_columns(self, fields: frozenset[str] | None) -> int:
        """How many of the first columns hold the key and the record's `fields`
        (None: all; `source` is no column, every record has it)."""
        if fields is None or not fields <= {*self.fields, "source"}:
            return len(self.columns)
        held = fields.difference(("source",))
        return 1 + max((self.fields.index(field) for field in held), default=0)

    def leading_reader(self, count: int) -> Callable[[Row], RecordT]:
        """from_row for a row of the first `count` columns; the later fields are None."""
        if count >= len(self.columns):
            return self.from_row
        return _leading_reader(self, count)

    def to_row(self, record: RecordT) -> Row:
        return tuple(column_value(getattr(record, field)) for field in self.fields)

    @staticmethod
    def key_of(record: RecordT) -> str | int:
        return record.id


def _row_reader(
    table: Table[RecordT], *, with_source: bool, columns: int | None = None
) -> Callable[[Row], RecordT]:
    """A function that builds the table's record from a row, generated once.

    A list page or a history turns thousands of rows into records per request,
    and the generic ways cost several times the record itself: a loop over the
    columns calling each reader, then a frozen dataclass's __init__, which sets
    each field through object.__setattr__. So, as dataclasses and namedtuple do
    for their own methods, the function is written out: the record made with
    object.__new__ (as copy and pickle make one), each slot set through its
    descriptor, a reader called only for the columns that have one. Records
    have no __post_init__ to skip. Only positions and the names bound below go
    into the source, never data. 1.8 -> 0.7 us per customer row.

    `columns`: a row of the table's first columns only; the later fields are None.
    """
    record = table.record
    assert not hasattr(record, "__post_init__"), record
    slots = (*table.fields, "source") if with_source else table.fields
    assert tuple(record.__slots__) == slots, record
    names: dict[str, object] = {"new": object.__new__, "record": record}
    lines = ["def from_row(row):", "    made = new(record)"]
    for position, field in enumerate(slots):
        names[f"set_{position}"] = getattr(record, field).__set__
        if field == "source":
            names["MYSQL"] = records.DataSource.MYSQL
            value = "MYSQL"
        elif columns is not None and position >= columns:
            value = "None"
        elif field in table.readers:
            names[f"read_{position}"] = table.readers[field]
            value = f"None if row[{position}] is None else read_{position}(row[{position}])"
        else:
            value = f"row[{position}]"
        lines.append(f"    set_{position}(made, {value})")
    lines.append("    return made")
    exec("\n".join(lines) + "\n", names)  # noqa: S102 - built above from positions and names
    from_row: Callable[[Row], RecordT] = names["from_row"]  # type: ignore[assignment]
    return from_row


# Generated readers of leading columns by table name and count: a request plan
# asks for a few shapes, each often.
_LEADING_READERS: dict[tuple[str, int], Callable[[Row], Any]] = {}


def _leading_reader(table: Table[RecordT], count: int) -> Callable[[Row], RecordT]:
    found = _LEADING_READERS.get((table.name, count))
    if found is None:
        with_source = "source" in table.record.__slots__
        found = _row_reader(table, with_source=with_source, columns=count)
        _LEADING_READERS[(table.name, count)] = found
    return found


def _names(columns: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in columns.split(","))


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


_from_iso = datetime.fromisoformat


def utc_datetime(text: str) -> datetime | str:
    """A DATETIME column's text as an aware UTC time: the driver's decoder for
    that column type on every connection (DRIVER_DECODERS).

    Columns hold UTC (the session time zone is pinned to +00:00). Decoding to an
    aware time here costs a tenth of a microsecond more than the driver's naive
    one; making it aware afterwards (datetime.replace) costs a whole one, for
    each of thousands of values per page. Text that is not a time comes back
    unchanged, as the driver's own decoder does: raising inside the driver
    would leave the rest of the result unread on the connection.
    """
    try:
        return _from_iso(text + "+00:00")
    except ValueError:
        return text


# The decoders every MySQL connection uses besides the driver's own, by column type.
DRIVER_DECODERS: Mapping[int, Callable[[str], object]] = {FIELD_TYPE.DATETIME: utc_datetime}


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
    readers={"active": bool},
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
        "kind": _member(records.CustomerEventKind),
        "from_status": _member(records.CustomerStatus),
        "to_status": _member(records.CustomerStatus),
    },
)
# What and when of an event, the first columns: a record from them has no details
# (StoreReader.events_by_customers(details=False)).
EVENT_CORE_COLUMNS = EVENTS.columns[:4]
assert EVENT_CORE_COLUMNS == ("event_id", "customer_id", "kind", "occurred_at")
EVENT_CORE = _row_reader(EVENTS, with_source=False, columns=len(EVENT_CORE_COLUMNS))
