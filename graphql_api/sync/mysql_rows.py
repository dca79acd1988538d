"""Bulk writes to MySQL for the sync commands: one SELECT and one multi-row upsert a batch.

Existing rows are read first and compared record by record, so the counts of
inserted, updated and unchanged rows are exact and a dry run needs no writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

from asyncmy.cursors import Cursor

from graphql_api.stores import mysql
from graphql_api.stores.records import (
    CustomerEventRecord,
    CustomerRecord,
    SalesRepRecord,
)
from graphql_api.sync.counts import SyncCounts

R = TypeVar("R", SalesRepRecord, CustomerRecord, CustomerEventRecord)
Row = tuple[Any, ...]


def _value(member: object) -> object:
    return getattr(member, "value", member)


@dataclass(frozen=True)
class TableSpec(Generic[R]):
    kind: str
    table: str
    key_column: str
    columns: str
    to_row: Callable[[R], Row]
    from_row: Callable[[Row], R]
    key_of: Callable[[R], str | int]

    @property
    def column_names(self) -> list[str]:
        return [name.strip() for name in self.columns.split(",")]


SALES_REPS: TableSpec[SalesRepRecord] = TableSpec(
    kind="sales_rep", table="sales_reps", key_column="sales_rep_id", columns=mysql.REP_COLUMNS,
    to_row=lambda r: (r.id, r.first_name, r.last_name, r.email, r.phone, r.region, r.active,
                      mysql.naive_utc(r.created_at), mysql.naive_utc(r.updated_at)),
    from_row=mysql.rep_from_row, key_of=lambda r: r.id,
)  # fmt: skip
CUSTOMERS: TableSpec[CustomerRecord] = TableSpec(
    kind="customer", table="customers", key_column="customer_id",
    columns=mysql.CUSTOMER_COLUMNS,
    to_row=lambda c: (c.id, c.name, c.contact_person, c.email, c.phone, c.address, c.city,
                      c.state, c.zip_code, c.country, c.status.value, c.sales_rep_id, c.version,
                      mysql.naive_utc(c.created_at), mysql.naive_utc(c.updated_at)),
    from_row=mysql.customer_from_row, key_of=lambda c: c.id,
)  # fmt: skip
EVENTS: TableSpec[CustomerEventRecord] = TableSpec(
    kind="event", table="customer_events", key_column="event_id", columns=mysql.EVENT_COLUMNS,
    to_row=lambda e: (e.id, e.customer_id, e.kind.value, mysql.naive_utc(e.at), e.actor,
                      e.from_sales_rep_id, e.to_sales_rep_id, _value(e.from_status),
                      _value(e.to_status), e.note),
    from_row=mysql.event_from_row, key_of=lambda e: e.id,
)  # fmt: skip


def mirrored_fields(
    record: SalesRepRecord | CustomerRecord | CustomerEventRecord,
) -> dict[str, Any]:
    """Every field both stores keep; which store served a record does not count."""
    values = asdict(record)
    values.pop("source", None)
    return values


def same_record(
    left: SalesRepRecord | CustomerRecord | CustomerEventRecord,
    right: SalesRepRecord | CustomerRecord | CustomerEventRecord,
) -> bool:
    return type(left) is type(right) and mirrored_fields(left) == mirrored_fields(right)


async def existing_keys(
    cursor: Cursor, *, table: str, key_column: str, keys: Iterable[str]
) -> set[str]:
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    await cursor.execute(
        f"SELECT {key_column} FROM {table}"
        f" WHERE {key_column} IN ({mysql.placeholders(len(wanted))})",
        wanted,
    )
    return {row[0] for row in await cursor.fetchall()}


async def fetch_by_keys(
    cursor: Cursor, spec: TableSpec[R], keys: Sequence[str | int]
) -> dict[str | int, R]:
    if not keys:
        return {}
    await cursor.execute(
        f"SELECT {spec.columns} FROM {spec.table}"
        f" WHERE {spec.key_column} IN ({mysql.placeholders(len(keys))})",
        list(keys),
    )
    return {row[0]: spec.from_row(row) for row in await cursor.fetchall()}


async def upsert(
    cursor: Cursor, spec: TableSpec[R], records: Sequence[R], *, dry_run: bool
) -> SyncCounts:
    counts = SyncCounts()
    existing = await fetch_by_keys(cursor, spec, [spec.key_of(r) for r in records])
    to_write = []
    for record in records:
        current = existing.get(spec.key_of(record))
        if current is None:
            counts.inserted += 1
            to_write.append(record)
        elif same_record(current, record):
            counts.unchanged += 1
        else:
            counts.updated += 1
            to_write.append(record)
    if to_write and not dry_run:
        names = spec.column_names
        updates = ", ".join(f"{name} = VALUES({name})" for name in names[1:])
        row_sql = f"({mysql.placeholders(len(names))})"
        await cursor.execute(
            f"INSERT INTO {spec.table} ({spec.columns}) VALUES"
            f" {', '.join([row_sql] * len(to_write))} ON DUPLICATE KEY UPDATE {updates}",
            [value for record in to_write for value in spec.to_row(record)],
        )
    return counts


# Each sync phase and the table it fills, in the order parents come before children.
SPECS_BY_PHASE: dict[str, TableSpec[Any]] = {
    "sales_reps": SALES_REPS,
    "customers": CUSTOMERS,
    "events": EVENTS,
}
