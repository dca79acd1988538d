"""`graphql-api verify`: prove MySQL and the DynamoDB copy agree.

Both sides are read in full (MySQL in key order, DynamoDB with a segmented
Scan per phase); each record is reduced to a digest over its mirrored fields.
Every difference is reported: missing on one side, or which fields differ.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from asyncmy.pool import Pool

from graphql_api.stores.mysql_tables import Table
from graphql_api.sync.dynamodb_rows import PHASES, AnyRecord, key_text, record_of, scan_pages
from graphql_api.sync.mysql_rows import SPECS_BY_PHASE, mirrored_fields

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

_PAGE = 1000


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
    differences: list[Difference] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return not self.differences


def digest(record: AnyRecord) -> str:
    canonical = repr(sorted((name, repr(value)) for name, value in mirrored_fields(record).items()))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _mysql_records(pool: Pool, spec: Table[Any]) -> dict[str, AnyRecord]:
    found: dict[str, AnyRecord] = {}
    after: object = None
    async with pool.acquire() as connection, connection.cursor() as cursor:
        while True:
            condition = f" WHERE {spec.key_column} > %s" if after is not None else ""
            params = [after, _PAGE] if after is not None else [_PAGE]
            await cursor.execute(
                f"SELECT {spec.column_list} FROM {spec.name}{condition}"  # noqa: S608 - constants only
                f" ORDER BY {spec.key_column} LIMIT %s",
                params,
            )
            rows = await cursor.fetchall()
            for row in rows:
                record = spec.from_row(row)
                found[str(spec.key_of(record))] = record
            if len(rows) < _PAGE:
                return found
            after = rows[-1][0]


async def _dynamodb_records(
    client: DynamoDBClient,
    table: str,
    phase: str,
    segments: int,
    page_size: int,
    report: VerifyReport,
) -> dict[str, AnyRecord]:
    found: dict[str, AnyRecord] = {}

    async def segment(number: int) -> None:
        async for page, _ in scan_pages(
            client,
            table=table,
            phase=phase,
            segment=number,
            segments=segments,
            start_key=None,
            page_size=page_size,
        ):
            for item in page:
                try:
                    record = record_of(phase, item)
                except (KeyError, ValueError, TypeError):
                    report.differences.append(
                        Difference(phase, key_text(item), "unreadable in DynamoDB")
                    )
                    continue
                found[str(SPECS_BY_PHASE[phase].key_of(record))] = record

    await asyncio.gather(*(segment(number) for number in range(segments)))
    return found


def _compare(
    phase: str, mysql: dict[str, AnyRecord], dynamodb: dict[str, AnyRecord]
) -> list[Difference]:
    differences = []
    for key in sorted(mysql.keys() | dynamodb.keys()):
        left, right = mysql.get(key), dynamodb.get(key)
        if right is None:
            differences.append(Difference(phase, key, "missing in DynamoDB"))
        elif left is None:
            differences.append(Difference(phase, key, "missing in MySQL"))
        elif digest(left) != digest(right):
            left_fields, right_fields = mirrored_fields(left), mirrored_fields(right)
            names = sorted(n for n in left_fields if left_fields[n] != right_fields[n])
            differences.append(Difference(phase, key, "fields differ: " + ", ".join(names)))
    return differences


async def verify(
    *, pool: Pool, client: DynamoDBClient, table: str, segments: int, page_size: int
) -> VerifyReport:
    report = VerifyReport()
    for phase in PHASES:
        mysql = await _mysql_records(pool, SPECS_BY_PHASE[phase])
        dynamodb = await _dynamodb_records(client, table, phase, segments, page_size, report)
        report.counts[phase] = (len(mysql), len(dynamodb))
        report.differences.extend(_compare(phase, mysql, dynamodb))
    return report
