"""`graphql-api migrate mysql-to-dynamodb`: build or repair the fallback copy from MySQL.

The same three phases as the other direction. Each segment walks its share of
a table (CRC32 of the key modulo the segments) in key order, reading the next
page while the last is written. Items go out 25 a BatchWriteItem call, several
calls at once, unprocessed items retried.

Into a table that was empty when the run began (one Scan of one item tells),
every item is new: pages are written without reading anything back. Otherwise a
page is compared with what the table holds (BatchGetItem) and only new or
changed items are written, so a second run writes nothing. The checkpoint is
saved after its page is written: a resumed run may write a page again, which
changes nothing.

Run it while the outbox relay is stopped or drained: a batch read from MySQL
before a live change could land after the relay delivered that change; the
next relay delivery or `verify` then shows it.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

from graphql_api.stores import dynamodb_items as items
from graphql_api.stores.dynamodb_batch import put_items
from graphql_api.stores.mysql_tables import EVENTS, Table
from graphql_api.sync import checkpoints
from graphql_api.sync.counts import SyncCounts
from graphql_api.sync.dynamodb_rows import (
    PHASES,
    AnyRecord,
    get_items,
    item_of,
    key_text,
    record_of,
    table_is_empty,
)
from graphql_api.sync.migration import Migration, MigrationReport, migrate
from graphql_api.sync.mysql_rows import SPECS_BY_PHASE, same_record
from graphql_api.sync.read_ahead import ReadAhead
from graphql_api.sync.rules import problem_of

MIGRATION = "mysql-to-dynamodb"
# Rows a page reads from MySQL, unless the run says otherwise.
PAGE_ROWS = 500
# BatchWriteItem calls in flight per segment.
_WRITES_IN_FLIGHT = 2


async def _page(
    run: Migration, spec: Table[Any], segment: int, after: str | None, size: int
) -> list[AnyRecord]:
    key = spec.key_column
    # Event ids are numbers: compare them as numbers, not text.
    after_value: object = int(after) if after is not None and spec is EVENTS else after
    condition = f" AND {key} > %s" if after is not None else ""
    params: list[object] = [run.segments, segment]
    if after is not None:
        params.append(after_value)
    params.append(size)
    async with run.pool.acquire() as connection, connection.cursor() as cursor:
        await cursor.execute(
            f"SELECT {spec.column_list} FROM {spec.name}"
            f" WHERE MOD(CRC32({key}), %s) = %s{condition} ORDER BY {key} LIMIT %s",
            params,
        )
        return [spec.from_row(row) for row in await cursor.fetchall()]


async def _pages(
    run: Migration, spec: Table[Any], segment: int, after: str | None, size: int
) -> AsyncIterator[tuple[list[AnyRecord], str | None]]:
    """A segment's pages from `after` on, each with the position after it."""
    while True:
        records = await _page(run, spec, segment, after, size)
        after = str(spec.key_of(records[-1])) if records else after
        yield records, after
        if len(records) < size:
            return


async def _current(run: Migration, valid: list[tuple[AnyRecord, Any]]) -> dict[str, Any]:
    keys = [{items.PK: item[items.PK], items.SK: item[items.SK]} for _, item in valid]
    return {
        key_text(found): found for found in await get_items(run.client, table=run.table, keys=keys)
    }


async def _write_batch(
    run: Migration, phase: str, records: list[AnyRecord], *, compare: bool
) -> SyncCounts:
    counts = SyncCounts()
    valid = []
    for record in records:
        problem = problem_of(record)
        item = item_of(record)
        if problem is not None:
            counts.rejected += 1
            run.rejects.record(
                kind=phase, key=key_text(item), reason=problem, item={"id": str(record.id)}
            )
        else:
            valid.append((record, item))
    current = await _current(run, valid) if compare and valid else {}
    to_write = []
    for record, item in valid:
        existing = current.get(key_text(item))
        if existing is None:
            counts.inserted += 1
            to_write.append(item)
        elif same_record(record_of(phase, existing), record):
            counts.unchanged += 1
        else:
            counts.updated += 1
            to_write.append(item)
    if to_write and not run.dry_run:
        await put_items(run.client, table=run.table, rows=to_write, concurrency=_WRITES_IN_FLIGHT)
    return counts


async def _segment(
    run: Migration,
    phase: str,
    segment: int,
    start: checkpoints.Checkpoint | None,
    *,
    compare: bool,
) -> None:
    if start is not None and start.done:
        return
    spec = SPECS_BY_PHASE[phase]
    size = run.page_size or PAGE_ROWS
    async with ReadAhead(
        _pages(run, spec, segment, start.position if start else None, size)
    ) as pages:
        async for records, after in pages:
            counts = await _write_batch(run, phase, records, compare=compare)
            run.report.counts[phase].add(counts)
            run.progress.advance(len(records))
            if not run.dry_run:
                async with run.pool.acquire() as connection, connection.cursor() as cursor:
                    done = len(records) < size
                    await run.save_checkpoint(cursor, MIGRATION, phase, segment, after, done=done)


async def migrate_mysql_to_dynamodb(run: Migration, *, restart: bool) -> MigrationReport:
    # Nothing can be overwritten in a table that held nothing when the run began.
    compare = not await table_is_empty(run.client, table=run.table)
    copy_segment = functools.partial(_segment, compare=compare)
    return await migrate(
        run, name=MIGRATION, phases=PHASES, copy_segment=copy_segment, restart=restart
    )
