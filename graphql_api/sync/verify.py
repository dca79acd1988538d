"""`graphql-api verify`: prove MySQL and the DynamoDB copy agree.

Both stores are read once, in full, at the same time: the DynamoDB table with one
Scan (its segments consumed concurrently, each page read while the last is
used), MySQL table by table in key order. Every record becomes its canonical
text (all its mirrored fields), and both sides go into a sorted spill
(sync/sorted_spill.py); one pass over it in key order compares them, a merge
join: no item is looked up, and memory stays flat in the table's size. Every
difference is counted by kind; the first MAX_LISTED are listed: missing on one
side, more than one DynamoDB item for a key, unreadable, or which fields differ.
"""

from __future__ import annotations

import asyncio
import operator
import typing
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asyncmy.pool import Pool

from graphql_api.stores.mysql_tables import Table
from graphql_api.sync.dynamodb_rows import (
    PHASES,
    AnyRecord,
    key_text,
    kind_of,
    record_of,
    scan_pages,
)
from graphql_api.sync.mysql_rows import MIRRORED_FIELDS, SPECS_BY_PHASE, key_ordered_pages
from graphql_api.sync.progress import Progress
from graphql_api.sync.read_ahead import ReadAhead
from graphql_api.sync.sorted_spill import KeyGroup, Side, SortedSpill, sorted_spill

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

    from graphql_api.stores.dynamodb_items import Item

MAX_LISTED = 1_000
_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.problem}"


@dataclass
class VerifyReport:
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The first MAX_LISTED differences; `by_problem` counts all of them.
    differences: list[Difference] = field(default_factory=list)
    by_problem: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_problem.values())

    @property
    def agree(self) -> bool:
        return self.total == 0

    def add(self, difference: Difference, *, category: str) -> None:
        self.by_problem[difference.kind, category] += 1
        if len(self.differences) < MAX_LISTED:
            self.differences.append(difference)


def _canonical_text(record_type: type) -> Callable[[AnyRecord], str]:
    """How a record of this type becomes its canonical text: the repr of each mirrored
    field, times in UTC (the same instant written with another offset is the same)."""
    names = MIRRORED_FIELDS[record_type]
    hints = typing.get_type_hints(record_type)
    times = [index for index, name in enumerate(names) if hints[name] is datetime]
    fields = operator.attrgetter(*names)

    def text(record: AnyRecord) -> str:
        values = list(fields(record))
        for index in times:
            value = values[index]
            if value.tzinfo is not UTC and value.tzinfo is not None:
                values[index] = value.astimezone(UTC)
        return _SEPARATOR.join(map(repr, values))

    return text


# One maker per record type, built once: a page holds thousands of records.
_CANONICAL = {record_type: _canonical_text(record_type) for record_type in MIRRORED_FIELDS}


def canonical(record: AnyRecord) -> str:
    """Every mirrored field of a record, in field order: equal texts, equal records."""
    return _CANONICAL[type(record)](record)


class _Spiller:
    def __init__(self, spill: SortedSpill, report: VerifyReport, progress: Progress) -> None:
        self.spill = spill
        self.report = report
        self.progress = progress
        self.mysql = Counter[str]()
        self.dynamodb = Counter[str]()

    async def mysql_table(self, pool: Pool, phase: str) -> None:
        spec: Table[Any] = SPECS_BY_PHASE[phase]
        index = PHASES.index(phase)
        async with ReadAhead(key_ordered_pages(pool, spec)) as pages:
            async for records in pages:
                self.spill.add(Side.MYSQL, index, [(spec.key_of(r), canonical(r)) for r in records])
                self.mysql[phase] += len(records)

    def dynamodb_page(self, page: Sequence[Item]) -> None:
        rows: dict[str, list[tuple[Any, str]]] = {phase: [] for phase in PHASES}
        for item in page:
            phase = kind_of(item)
            if phase is None:
                continue
            try:
                record = record_of(phase, item)
            except (KeyError, ValueError, TypeError):
                self.report.add(
                    Difference(phase, key_text(item), "unreadable in DynamoDB"),
                    category="unreadable in DynamoDB",
                )
                continue
            rows[phase].append((SPECS_BY_PHASE[phase].key_of(record), canonical(record)))
        for phase, found in rows.items():
            self.spill.add(Side.DYNAMODB, PHASES.index(phase), found)
            self.dynamodb[phase] += len(found)
        self.progress.advance(len(page))


def _field_names(phase: str, left: str, right: str) -> list[str]:
    names = SPECS_BY_PHASE[phase].fields
    return [
        name
        for name, a, b in zip(names, left.split(_SEPARATOR), right.split(_SEPARATOR), strict=True)
        if a != b
    ]


def _compare(group: KeyGroup, report: VerifyReport) -> None:
    phase = PHASES[group.phase]
    key = str(group.key)
    if len(group.dynamodb) > 1:
        problem = f"{len(group.dynamodb)} items in DynamoDB hold this key"
        report.add(Difference(phase, key, problem), category="more than one item in DynamoDB")
    elif not group.dynamodb:
        report.add(Difference(phase, key, "missing in DynamoDB"), category="missing in DynamoDB")
    elif not group.mysql:
        report.add(Difference(phase, key, "missing in MySQL"), category="missing in MySQL")
    elif group.mysql[0] != group.dynamodb[0]:
        names = _field_names(phase, group.mysql[0], group.dynamodb[0])
        report.add(
            Difference(phase, key, "fields differ: " + ", ".join(names)), category="fields differ"
        )


async def verify(
    *,
    pool: Pool,
    client: DynamoDBClient,
    table: str,
    segments: int,
    page_size: int | None,
    progress: Progress,
) -> VerifyReport:
    report = VerifyReport()
    with sorted_spill() as spill:
        spiller = _Spiller(spill, report, progress)

        async def scan(segment: int) -> None:
            pages = scan_pages(
                client,
                table=table,
                segment=segment,
                segments=segments,
                start_key=None,
                limit=page_size,
            )
            async with ReadAhead(pages) as ahead:
                async for page, _ in ahead:
                    spiller.dynamodb_page(page)

        await asyncio.gather(
            *(scan(segment) for segment in range(segments)),
            *(spiller.mysql_table(pool, phase) for phase in PHASES),
        )
        progress.close()
        for group in spill.groups():
            _compare(group, report)
    report.counts = {p: (spiller.mysql[p], spiller.dynamodb[p]) for p in PHASES}
    return report
