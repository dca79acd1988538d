"""`graphql-api migrate dynamodb-to-mysql`: copy the table into MySQL, safely and again.

Three phases, so parents land before children: sales reps, customers, events.
Each phase is a parallel segmented Scan; each page becomes one transaction
holding a multi-row upsert and the segment's checkpoint. Run it twice and the
second run changes nothing; kill it and the next run continues where the
checkpoints say, ending with the same rows as an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from asyncmy.cursors import Cursor

from graphql_api.stores.records import CustomerEventRecord, CustomerRecord, SalesRepRecord
from graphql_api.sync import checkpoints, rules
from graphql_api.sync.dynamodb_rows import AnyRecord, key_text, record_of, scan_pages
from graphql_api.sync.migration import Migration, MigrationReport, migrate
from graphql_api.sync.mysql_rows import SPECS_BY_PHASE, existing_keys, upsert

if TYPE_CHECKING:
    from graphql_api.stores.dynamodb_items import Item

MIGRATION = "dynamodb-to-mysql"


def _plain(item: Item) -> dict[str, Any]:
    return {name: next(iter(value.values())) for name, value in item.items()}


async def _missing(cursor: Cursor, run: Migration, kind: str, ids: set[str]) -> set[str]:
    table, column = (
        ("sales_reps", "sales_rep_id") if kind == "reps" else ("customers", "customer_id")
    )
    unknown = ids - run.accepted[kind]
    return unknown - await existing_keys(cursor, table=table, key_column=column, keys=unknown)


async def _reference_problems(
    cursor: Cursor, run: Migration, phase: str, records: Sequence[AnyRecord]
) -> dict[int, str]:
    """Index of a record -> why it refers to something that does not exist."""
    problems: dict[int, str] = {}
    if phase == "customers":
        reps = {r.sales_rep_id for r in records if isinstance(r, CustomerRecord) and r.sales_rep_id}
        missing = await _missing(cursor, run, "reps", reps)
        for index, record in enumerate(records):
            assert isinstance(record, CustomerRecord)
            if record.sales_rep_id in missing:
                problems[index] = f"sales rep {record.sales_rep_id!r} does not exist"
    elif phase == "events":
        events = [r for r in records if isinstance(r, CustomerEventRecord)]
        missing_customers = await _missing(
            cursor, run, "customers", {e.customer_id for e in events}
        )
        rep_ids = {rep for e in events for rep in (e.from_sales_rep_id, e.to_sales_rep_id) if rep}
        missing_reps = await _missing(cursor, run, "reps", rep_ids)
        for index, event in enumerate(events):
            if event.customer_id in missing_customers:
                problems[index] = f"customer {event.customer_id!r} does not exist"
            for rep in (event.from_sales_rep_id, event.to_sales_rep_id):
                if rep in missing_reps:
                    problems[index] = f"sales rep {rep!r} does not exist"
    return problems


def _parse(run: Migration, phase: str, page: list[Item]) -> tuple[list[AnyRecord], list[Item]]:
    records: list[AnyRecord] = []
    sources: list[Item] = []
    for item in page:
        try:
            record = record_of(phase, item)
        except KeyError as missing:
            _reject(run, phase, item, f"missing required attribute {missing.args[0]!r}")
            continue
        except (ValueError, TypeError):
            _reject(run, phase, item, "an attribute has a malformed value")
            continue
        problem = rules.problem_of(record)
        if problem is not None:
            _reject(run, phase, item, problem)
            continue
        records.append(record)
        sources.append(item)
    return records, sources


def _reject(run: Migration, phase: str, item: Item, reason: str) -> None:
    run.report.counts[phase].rejected += 1
    run.rejects.record(kind=phase, key=key_text(item), reason=reason, item=_plain(item))


async def _write_page(
    run: Migration, phase: str, segment: int, page: list[Item], position: str | None
) -> None:
    records, sources = _parse(run, phase, page)
    async with run.pool.acquire() as connection, connection.cursor() as cursor:
        await connection.begin()
        try:
            problems = await _reference_problems(cursor, run, phase, records)
            for index in sorted(problems):
                _reject(run, phase, sources[index], problems[index])
            kept = [r for index, r in enumerate(records) if index not in problems]
            counts = await upsert(cursor, SPECS_BY_PHASE[phase], kept, dry_run=run.dry_run)
            await run.save_checkpoint(
                cursor, MIGRATION, phase, segment, position, done=position is None
            )
        except BaseException:
            await connection.rollback()
            raise
        await connection.commit()
    run.report.counts[phase].add(counts)
    _remember(run, kept)
    run.progress.advance(len(page))


def _remember(run: Migration, records: list[AnyRecord]) -> None:
    for record in records:
        if isinstance(record, SalesRepRecord):
            run.accepted["reps"].add(record.id)
        elif isinstance(record, CustomerRecord):
            run.accepted["customers"].add(record.id)


async def _segment(
    run: Migration, phase: str, segment: int, start: checkpoints.Checkpoint | None
) -> None:
    if start is not None and start.done:
        return
    async for page, position in scan_pages(
        run.client,
        table=run.table,
        phase=phase,
        segment=segment,
        segments=run.segments,
        start_key=start.position if start else None,
        page_size=run.page_size,
    ):
        await _write_page(run, phase, segment, page, position)


async def migrate_dynamodb_to_mysql(run: Migration, *, restart: bool) -> MigrationReport:
    return await migrate(run, name=MIGRATION, copy_segment=_segment, restart=restart)
