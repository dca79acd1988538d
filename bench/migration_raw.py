"""The stores' own limits, for the migration bench: raw clients against the same moto and
MariaDB in the same run, with none of our code between them and the store.

- DynamoDB writes: boto3's BatchWriteItem, 25 items a call, from a few threads, of items
  built beforehand (only the calls are timed).
- DynamoDB reads: boto3's Scan of the whole table, pages of DynamoDB's 1 MB, once
  sequentially and once as a parallel scan with a thread per segment.
- MariaDB: multi-row INSERTs of 1,000 rows (foreign keys checked, as a migration's are)
  into an empty copy of the schema, and SELECTs of every row in key order, with PyMySQL.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config

from bench.database import Database
from graphql_api.stores.dynamodb_batch import WRITE_LIMIT, chunks
from graphql_api.stores.mysql_tables import CUSTOMERS, EVENTS, SALES_REPS, Table

# Threads sending BatchWriteItem: moto answers one call at a time (one Python process),
# so a few keep it busy while the client builds the next; more only add contention.
WRITE_THREADS = 4
SCAN_SEGMENTS = 4
_ROWS_PER_STATEMENT = 1_000
TABLES: tuple[Table[Any], ...] = (SALES_REPS, CUSTOMERS, EVENTS)


@dataclass(frozen=True, slots=True)
class Timed:
    """How many items (or rows) a raw client moved, and the seconds it spent on them."""

    items: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        return f"{self.items:,} in {self.seconds:.1f} s, {self.per_second:,.0f}/s"


def dynamodb_client(env: Mapping[str, str]) -> Any:
    """A boto3 client with the endpoint and keys the commands get; no retries hidden
    inside a call (moto does not throttle)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=env["DYNAMODB_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(
            max_pool_connections=2 * max(WRITE_THREADS, SCAN_SEGMENTS),
            retries={"total_max_attempts": 1},
            read_timeout=600,
        ),
    )


def batch_write(
    client: Any, *, table: str, batches: Iterable[Sequence[Any]], window_s: float | None = None
) -> Timed:
    """Every batch of items (built by the caller, untimed) written with BatchWriteItem; no
    batch begun after `window_s` seconds of writing (None: every batch)."""
    items = 0
    seconds = 0.0

    def write(chunk: Sequence[Any]) -> None:
        response = client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": item}} for item in chunk]}
        )
        if response.get("UnprocessedItems"):
            raise RuntimeError("moto left items unprocessed")

    with concurrent.futures.ThreadPoolExecutor(WRITE_THREADS) as threads:
        for batch in batches:
            if window_s is not None and seconds >= window_s:
                break
            started = time.perf_counter()
            list(threads.map(write, chunks(batch, WRITE_LIMIT)))
            seconds += time.perf_counter() - started
            items += len(batch)
    return Timed(items, seconds)


def _scan_segment(
    client: Any, table: str, segment: int | None, segments: int, deadline: float | None
) -> tuple[int, float]:
    """The items of a segment's pages, and when its last page came; no page asked for
    after `deadline` (perf_counter)."""
    found = 0
    start: dict[str, Any] | None = None
    while True:
        params: dict[str, Any] = {"TableName": table}
        if segment is not None:
            params |= {"Segment": segment, "TotalSegments": segments}
        if start:
            params["ExclusiveStartKey"] = start
        page = client.scan(**params)
        found += len(page["Items"])
        ended = time.perf_counter()
        start = page.get("LastEvaluatedKey")
        if not start or (deadline is not None and ended >= deadline):
            return found, ended


def _deadline(started: float, window_s: float | None) -> float | None:
    return None if window_s is None else started + window_s


def sequential_scan(client: Any, *, table: str, window_s: float | None = None) -> Timed:
    """The table's pages in order, or those that began within `window_s` seconds: on moto
    every page costs the whole table's sort, so the first pages' rate is the scan's."""
    started = time.perf_counter()
    found, ended = _scan_segment(client, table, None, 1, _deadline(started, window_s))
    return Timed(found, ended - started)


def parallel_scan(
    client: Any, *, table: str, segments: int = SCAN_SEGMENTS, window_s: float | None = None
) -> Timed:
    started = time.perf_counter()
    deadline = _deadline(started, window_s)
    with concurrent.futures.ThreadPoolExecutor(segments) as threads:
        done = list(
            threads.map(
                lambda segment: _scan_segment(client, table, segment, segments, deadline),
                range(segments),
            )
        )
    # The segments' pages over the time until the last of them came.
    return Timed(sum(found for found, _ in done), max(ended for _, ended in done) - started)


def key_ordered_pages(connection: Any, spec: Table[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """A table's rows in key order, a page at a time (keyset pagination)."""
    after: object = None
    while True:
        with connection.cursor() as cursor:
            condition = f" WHERE {spec.key_column} > %s" if after is not None else ""
            cursor.execute(
                f"SELECT {spec.column_list} FROM {spec.name}{condition}"  # noqa: S608 - constants
                f" ORDER BY {spec.key_column} LIMIT {_ROWS_PER_STATEMENT}",
                [after] if after is not None else [],
            )
            rows = list(cursor.fetchall())
        if rows:
            yield rows
        if len(rows) < _ROWS_PER_STATEMENT:
            return
        after = rows[-1][0]


def mariadb_select(database: Database) -> Timed:
    """Every row of the three tables in key order: what a migration or verify reads."""
    connection = database.connect()
    try:
        started = time.perf_counter()
        rows = sum(len(page) for spec in TABLES for page in key_ordered_pages(connection, spec))
        return Timed(rows, time.perf_counter() - started)
    finally:
        connection.close()


def mariadb_insert(source: Database, target: Database) -> Timed:
    """Every row of `source` inserted into `target` (an empty schema), parents first;
    only the INSERTs are timed."""
    reader, writer = source.connect(), target.connect()
    rows = 0
    seconds = 0.0
    try:
        for spec in TABLES:
            sql = (
                f"INSERT INTO {spec.name} ({spec.column_list})"  # noqa: S608 - constants
                f" VALUES ({', '.join(['%s'] * len(spec.columns))})"
            )
            for page in key_ordered_pages(reader, spec):
                started = time.perf_counter()
                with writer.cursor() as cursor:
                    # PyMySQL sends executemany of INSERT ... VALUES as one multi-row INSERT.
                    cursor.executemany(sql, page)
                seconds += time.perf_counter() - started
                rows += len(page)
    finally:
        reader.close()
        writer.close()
    return Timed(rows, seconds)
