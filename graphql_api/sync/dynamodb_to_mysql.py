"""`graphql-api migrate dynamodb-to-mysql`: copy the table into MySQL, safely and again.

Parents land before children. First the sales reps, read from the SALESREP
partition of the `by_kind` index (no scan of the table for them). Then one Scan
of the whole table, its segments consumed concurrently, each page fetched while
the last one is written: a customer's partition holds its events and then its
profile, so whole partitions (sync/partitions.py) go into one transaction: the
customers' multi-row upsert, then their events', then the segment's checkpoint.
A rep the index does not list (an item written without it) is copied where the
scan meets it. Run it twice and the second run changes nothing; kill it and the
next run continues where the checkpoints say, ending with the same rows as an
uninterrupted run.

The scan relies on DynamoDB returning a partition's items together (a
partition's items are stored together, in sort-key order). Were they ever split,
an event whose customer is in neither MySQL nor the same batch would be rejected
with "does not exist" in the rejects file, and the next run would copy it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from asyncmy.cursors import Cursor

from graphql_api.stores.records import CustomerEventRecord, CustomerRecord
from graphql_api.sync import checkpoints, rules
from graphql_api.sync.counts import SyncCounts
from graphql_api.sync.dynamodb_rows import (
    PHASES,
    AnyRecord,
    in_kind_index,
    key_text,
    kind_of,
    record_of,
    rep_pages,
    scan_pages,
)
from graphql_api.sync.migration import Migration, MigrationReport, migrate
from graphql_api.sync.mysql_rows import SPECS_BY_PHASE, existing_keys, upsert
from graphql_api.sync.partitions import PartitionGrouper, position_after
from graphql_api.sync.read_ahead import ReadAhead

if TYPE_CHECKING:
    from graphql_api.stores.dynamodb_items import Item

MIGRATION = "dynamodb-to-mysql"
# The checkpoints' phases: the reps from the index, then one scan for everything else.
REPS, SCAN = "sales_reps", "scan"


def _plain(item: Item) -> dict[str, Any]:
    return {name: next(iter(value.values())) for name, value in item.items()}


class _Batch:
    """The valid records of some items, by phase, and where each came from."""

    def __init__(self, run: Migration) -> None:
        self.run = run
        self.records: dict[str, list[AnyRecord]] = {phase: [] for phase in PHASES}
        self.sources: dict[str, list[Item]] = {phase: [] for phase in PHASES}

    def add(self, phase: str, item: Item) -> None:
        try:
            record = record_of(phase, item)
        except KeyError as missing:
            self.reject(phase, item, f"missing required attribute {missing.args[0]!r}")
            return
        except (ValueError, TypeError):
            self.reject(phase, item, "an attribute has a malformed value")
            return
        problem = rules.problem_of(record)
        if problem is not None:
            self.reject(phase, item, problem)
            return
        self.records[phase].append(record)
        self.sources[phase].append(item)

    def reject(self, phase: str, item: Item, reason: str) -> None:
        self.run.report.counts[phase].rejected += 1
        self.run.rejects.record(kind=phase, key=key_text(item), reason=reason, item=_plain(item))

    def reject_where(self, phase: str, problems: dict[int, str]) -> list[AnyRecord]:
        """The phase's records but those with a problem, which are rejected."""
        for index in sorted(problems):
            self.reject(phase, self.sources[phase][index], problems[index])
        return [r for index, r in enumerate(self.records[phase]) if index not in problems]


async def _missing(cursor: Cursor, run: Migration, kind: str, ids: set[str]) -> set[str]:
    """Of `ids` (reps or customers), those neither accepted by this run nor in MySQL."""
    table, column = (
        ("sales_reps", "sales_rep_id") if kind == "reps" else ("customers", "customer_id")
    )
    unknown = ids - run.accepted[kind]
    return unknown - await existing_keys(cursor, table=table, key_column=column, keys=unknown)


async def _customer_problems(
    cursor: Cursor, run: Migration, customers: Sequence[AnyRecord]
) -> dict[int, str]:
    reps = {c.sales_rep_id for c in customers if isinstance(c, CustomerRecord) and c.sales_rep_id}
    missing = await _missing(cursor, run, "reps", reps)
    return {
        index: f"sales rep {customer.sales_rep_id!r} does not exist"
        for index, customer in enumerate(customers)
        if isinstance(customer, CustomerRecord) and customer.sales_rep_id in missing
    }


async def _event_problems(
    cursor: Cursor, run: Migration, events: Sequence[AnyRecord], customers: set[str]
) -> dict[int, str]:
    """`customers`: the customers this batch writes, which its events may refer to."""
    typed = [e for e in events if isinstance(e, CustomerEventRecord)]
    missing_customers = await _missing(
        cursor, run, "customers", {e.customer_id for e in typed} - customers
    )
    rep_ids = {rep for e in typed for rep in (e.from_sales_rep_id, e.to_sales_rep_id) if rep}
    missing_reps = await _missing(cursor, run, "reps", rep_ids)
    problems: dict[int, str] = {}
    for index, event in enumerate(typed):
        if event.customer_id in missing_customers:
            problems[index] = f"customer {event.customer_id!r} does not exist"
        for rep in (event.from_sales_rep_id, event.to_sales_rep_id):
            if rep in missing_reps:
                problems[index] = f"sales rep {rep!r} does not exist"
    return problems


async def _write_batch(
    run: Migration, batch: _Batch, *, phase: str, segment: int, position: str | None, done: bool
) -> None:
    """The batch's reps, customers and events, parents first, and the segment's
    checkpoint: one transaction."""
    counts = {p: SyncCounts() for p in PHASES}
    async with run.pool.acquire() as connection, connection.cursor() as cursor:
        await connection.begin()
        try:
            reps = batch.records["sales_reps"]
            counts["sales_reps"] = await upsert(
                cursor, SPECS_BY_PHASE["sales_reps"], reps, dry_run=run.dry_run
            )
            run.accepted["reps"].update(str(r.id) for r in reps)
            problems = await _customer_problems(cursor, run, batch.records["customers"])
            customers = batch.reject_where("customers", problems)
            counts["customers"] = await upsert(
                cursor, SPECS_BY_PHASE["customers"], customers, dry_run=run.dry_run
            )
            written = {str(c.id) for c in customers}
            problems = await _event_problems(cursor, run, batch.records["events"], written)
            events = batch.reject_where("events", problems)
            counts["events"] = await upsert(
                cursor, SPECS_BY_PHASE["events"], events, dry_run=run.dry_run
            )
            await run.save_checkpoint(cursor, MIGRATION, phase, segment, position, done=done)
        except BaseException:
            await connection.rollback()
            raise
        await connection.commit()
    for name, phase_counts in counts.items():
        run.report.counts[name].add(phase_counts)


async def _reps(run: Migration, segment: int, start: checkpoints.Checkpoint | None) -> None:
    """The reps the `by_kind` index lists; one reader (an index Query has no segments)."""
    if segment != 0 or (start is not None and start.done):
        return
    pages = rep_pages(
        run.client,
        table=run.table,
        start_key=start.position if start else None,
        limit=run.page_size,
    )
    async with ReadAhead(pages) as ahead:
        async for page, position in ahead:
            batch = _Batch(run)
            for item in page:
                if kind_of(item) == "sales_reps":
                    batch.add("sales_reps", item)
            done = position is None
            # Progress counts the table's items, the reps among them, as the scan meets them.
            await _write_batch(run, batch, phase=REPS, segment=0, position=position, done=done)


async def _scan(run: Migration, segment: int, start: checkpoints.Checkpoint | None) -> None:
    """One segment of the table's scan, whole partitions a transaction."""
    if start is not None and start.done:
        return
    grouper = PartitionGrouper()
    pages = scan_pages(
        run.client,
        table=run.table,
        segment=segment,
        segments=run.segments,
        start_key=start.position if start else None,
        limit=run.page_size,
    )
    async with ReadAhead(pages) as ahead:
        async for page, position in ahead:
            done = position is None
            ready = grouper.complete(page, last=done)
            if not ready and not done:
                continue
            batch = _Batch(run)
            for item in ready:
                phase = kind_of(item)
                # Reps the index lists were copied before the scan.
                if phase is not None and not (phase == "sales_reps" and in_kind_index(item)):
                    batch.add(phase, item)
            after = None if done else position_after(ready[-1])
            await _write_batch(run, batch, phase=SCAN, segment=segment, position=after, done=done)
            run.progress.advance(len(ready))


async def _copy_segment(
    run: Migration, phase: str, segment: int, start: checkpoints.Checkpoint | None
) -> None:
    await (_reps if phase == REPS else _scan)(run, segment, start)


async def migrate_dynamodb_to_mysql(run: Migration, *, restart: bool) -> MigrationReport:
    return await migrate(
        run, name=MIGRATION, phases=(REPS, SCAN), copy_segment=_copy_segment, restart=restart
    )
