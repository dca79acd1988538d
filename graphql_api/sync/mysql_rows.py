"""Bulk reads and writes of MySQL for the sync commands.

Writes: one SELECT and one multi-row upsert a batch. Existing rows are read
first and compared record by record, so the counts of inserted, updated and
unchanged rows are exact, unchanged rows are not written, and a dry run needs
no writes. Reads: a table in key order, a page at a time (keyset pagination).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from asyncmy.cursors import Cursor
from asyncmy.pool import Pool

from graphql_api.stores.mysql_tables import (
    CUSTOMERS,
    EVENTS,
    SALES_REPS,
    RecordT,
    Table,
    placeholders,
)
from graphql_api.stores.records import CustomerEventRecord, CustomerRecord, SalesRepRecord
from graphql_api.sync.counts import SyncCounts

# The fields both stores keep, by record type: all but `source` (which store served it).
MIRRORED_FIELDS: dict[type, tuple[str, ...]] = {
    spec.record: spec.fields for spec in (SALES_REPS, CUSTOMERS, EVENTS)
}


def same_record(
    left: SalesRepRecord | CustomerRecord | CustomerEventRecord,
    right: SalesRepRecord | CustomerRecord | CustomerEventRecord,
) -> bool:
    return type(left) is type(right) and all(
        getattr(left, name) == getattr(right, name) for name in MIRRORED_FIELDS[type(left)]
    )


async def existing_keys(
    cursor: Cursor, *, table: str, key_column: str, keys: Iterable[str]
) -> set[str]:
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    await cursor.execute(
        f"SELECT {key_column} FROM {table} WHERE {key_column} IN ({placeholders(len(wanted))})",
        wanted,
    )
    return {row[0] for row in await cursor.fetchall()}


async def fetch_by_keys(
    cursor: Cursor, spec: Table[RecordT], keys: Sequence[str | int]
) -> dict[str | int, RecordT]:
    if not keys:
        return {}
    await cursor.execute(
        f"SELECT {spec.column_list} FROM {spec.name}"
        f" WHERE {spec.key_column} IN ({placeholders(len(keys))})",
        list(keys),
    )
    return {row[0]: spec.from_row(row) for row in await cursor.fetchall()}


async def upsert(
    cursor: Cursor, spec: Table[RecordT], records: Sequence[RecordT], *, dry_run: bool
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
        names = spec.columns
        updates = ", ".join(f"{name} = VALUES({name})" for name in names[1:])
        row_sql = f"({placeholders(len(names))})"
        await cursor.execute(
            f"INSERT INTO {spec.name} ({spec.column_list}) VALUES"
            f" {', '.join([row_sql] * len(to_write))} ON DUPLICATE KEY UPDATE {updates}",
            [value for record in to_write for value in spec.to_row(record)],
        )
    return counts


async def key_ordered_pages(
    pool: Pool, spec: Table[RecordT], *, page_size: int = 1_000
) -> AsyncIterator[list[RecordT]]:
    """Every record of a table, in key order, `page_size` at a time."""
    after: object = None
    async with pool.acquire() as connection, connection.cursor() as cursor:
        while True:
            condition = f" WHERE {spec.key_column} > %s" if after is not None else ""
            await cursor.execute(
                f"SELECT {spec.column_list} FROM {spec.name}{condition}"
                f" ORDER BY {spec.key_column} LIMIT %s",
                [after, page_size] if after is not None else [page_size],
            )
            rows = await cursor.fetchall()
            if rows:
                yield [spec.from_row(row) for row in rows]
            if len(rows) < page_size:
                return
            after = rows[-1][0]


async def count_rows(pool: Pool, specs: Iterable[Table[Any]]) -> int:
    """The rows of the tables together (what a run from MySQL goes through)."""
    async with pool.acquire() as connection, connection.cursor() as cursor:
        total = 0
        for spec in specs:
            await cursor.execute(f"SELECT COUNT(*) FROM {spec.name}")
            (count,) = await cursor.fetchone()
            total += int(count)
        return total


# Each sync phase and the table it fills, in the order parents come before children.
SPECS_BY_PHASE: dict[str, Table[Any]] = {
    "sales_reps": SALES_REPS,
    "customers": CUSTOMERS,
    "events": EVENTS,
}
