"""The outbox relay: copies committed MySQL changes to the DynamoDB fallback.

Each mutation leaves an outbox row in its own transaction. The relay takes a
batch of rows with FOR UPDATE SKIP LOCKED (so several workers and server
processes share the work without taking the same row), copies each touched
customer's *current* state and the changes' events with BatchWriteItem, 25
items a call and several calls at once, then deletes the rows and commits.

Delivery is at least once, and a late or repeated delivery never leaves a
customer older in DynamoDB than in MySQL. BatchWriteItem has no condition, so
the order of writes is kept another way: after its writes are acknowledged,
a worker reads the customers' versions in MySQL again, and writes the current
state of any that changed meanwhile (another worker may have written the newer
state before this one's older write landed), until the versions it wrote are
MySQL's. A write that failed or timed out may still land later; its customers
are compared with MySQL for a while and put right (sync/in_doubt.py). Events
are immutable and keyed by id. READ COMMITTED keeps the relay's locks to the
rows it took and lets each re-read see the latest commits: no gap lock on the
outbox's tail blocks a mutation while the relay talks to DynamoDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from asyncmy.cursors import Cursor
from asyncmy.pool import Pool

from graphql_api.errors import GraphqlApiError
from graphql_api.stores import dynamodb_items as items
from graphql_api.stores.backoff import full_jitter_delay
from graphql_api.stores.dynamodb_batch import GET_LIMIT, bounded_gather, chunks, put_items
from graphql_api.stores.mysql_tables import CUSTOMERS, EVENTS, placeholders
from graphql_api.stores.observer import NoObserver, StoreObserver
from graphql_api.sync.dynamodb_rows import get_items
from graphql_api.sync.in_doubt import InDoubt
from graphql_api.sync.mysql_rows import fetch_by_keys

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

    from graphql_api.stores.records import CustomerRecord

log = logging.getLogger("graphql_api.sync.outbox")

# How long stopping waits for the relay's batch in hand before cutting it off.
STOP_TIMEOUT_S = 10.0
# Rounds of "write, read MySQL's versions again" before a batch gives up (its rows
# stay in the outbox and are delivered again).
_CATCH_UP_ROUNDS = 5
# Outbox rows a worker takes at once: MySQL's share of a batch (the SELECT, the reads by
# key, the commit) is mostly per statement, so larger batches spread it over more items.
BATCH_SIZE = 500


class StillChangingError(GraphqlApiError):
    """Customers kept changing while a batch was delivered; it is delivered again later."""

    def __init__(self, customer_ids: Sequence[str]) -> None:
        super().__init__(f"{len(customer_ids)} customers kept changing during delivery")
        self.customer_ids = customer_ids


@dataclass(frozen=True, slots=True)
class Backlog:
    rows: int
    oldest_age_s: float | None


class OutboxRelay:
    def __init__(
        self,
        *,
        pool: Pool,
        client: DynamoDBClient,
        table: str,
        batch_size: int = BATCH_SIZE,
        # Batches in delivery at once, each holding a pooled connection while it runs.
        workers: int = 2,
        writes_in_flight: int = 4,
        idle_s: float = 0.5,
        max_backoff_s: float = 30.0,
        report_every_s: float = 10.0,
        observer: StoreObserver | None = None,
        in_doubt: InDoubt | None = None,
    ) -> None:
        self._pool = pool
        self._client = client
        self._table = table
        self._batch_size = batch_size
        self._workers = workers
        self._writes_in_flight = writes_in_flight
        self._idle_s = idle_s
        self._max_backoff_s = max_backoff_s
        self._report_every_s = report_every_s
        self._observer: StoreObserver = observer or NoObserver()
        self._in_doubt = InDoubt() if in_doubt is None else in_doubt
        # The workers take turns at MySQL: one reads or commits while the others write to
        # DynamoDB, so the store that limits (DynamoDB) always has a batch in hand. Left
        # to themselves, they fall into step and leave DynamoDB idle while both wait on
        # MySQL. A turn never waits on a row lock or a pooled connection (SKIP LOCKED,
        # plain reads, deletes of the worker's own rows; the connection is taken first).
        self._mysql_turn = asyncio.Lock()
        self._last_report = 0.0
        self.delivered = 0
        # DynamoDB items written: events, customers' states, and states written again.
        self.items_written = 0
        self.failures = 0

    async def backlog(self) -> Backlog:
        async with self._pool.acquire() as connection, connection.cursor() as cursor:
            await cursor.execute("SELECT COUNT(*), MIN(created_at) FROM outbox")
            count, oldest = await cursor.fetchone()
        age = (
            None
            if oldest is None
            else (datetime.now(UTC) - oldest.replace(tzinfo=UTC)).total_seconds()
        )
        return Backlog(rows=int(count), oldest_age_s=age)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def drain_once(self) -> int:
        """Delivers one batch; returns how many outbox rows it delivered (0: empty)."""
        async with self._pool.acquire() as connection, connection.cursor() as cursor:
            try:
                async with self._mysql_turn:
                    await cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    await connection.begin()
                    await cursor.execute(
                        "SELECT outbox_id, customer_id, event_id FROM outbox ORDER BY outbox_id"
                        " LIMIT %s FOR UPDATE SKIP LOCKED",
                        [self._batch_size],
                    )
                    rows = list(await cursor.fetchall())
                    customers = await fetch_by_keys(
                        cursor, CUSTOMERS, sorted({row[1] for row in rows})
                    )
                    events = await fetch_by_keys(cursor, EVENTS, sorted({int(r[2]) for r in rows}))

                async def finish() -> None:
                    # One point delete per row: an IN list may be run as a scan from the
                    # table's start, which waits on rows other drainers hold: a deadlock.
                    await cursor.executemany(
                        "DELETE FROM outbox WHERE outbox_id = %s", [[row[0]] for row in rows]
                    )
                    await connection.commit()

                if rows:
                    event_items = [items.event_item(e) for e in events.values()]
                    await self._write(
                        cursor, list(customers.values()), events=event_items, finish=finish
                    )
                else:
                    async with self._mysql_turn:
                        await connection.commit()
            except BaseException:
                await connection.rollback()
                raise
        self.delivered += len(rows)
        return len(rows)

    async def _write(
        self,
        cursor: Cursor,
        customers: list[CustomerRecord],
        *,
        events: list[items.Item],
        finish: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """The customers' states (and `events`), then again any state MySQL has moved
        past meanwhile, until what was written last is what MySQL holds; then `finish`,
        in the same turn at MySQL as the last reading of the versions."""
        for _ in range(_CATCH_UP_ROUNDS):
            rows = events + [items.customer_item(c) for c in customers]
            try:
                await put_items(
                    self._client, table=self._table, rows=rows, concurrency=self._writes_in_flight
                )
            except BaseException:
                self._in_doubt.note([str(c.id) for c in customers], now=self._now())
                raise
            self.items_written += len(rows)
            async with self._mysql_turn:
                customers = await self._moved_on(cursor, customers)
                if not customers:
                    if finish is not None:
                        await finish()
                    return
            events = []
        raise StillChangingError([str(c.id) for c in customers])

    @staticmethod
    async def _moved_on(cursor: Cursor, written: Sequence[CustomerRecord]) -> list[CustomerRecord]:
        """The current state of each written customer MySQL now holds a newer one of."""
        if not written:
            return []
        versions = {str(c.id): c.version for c in written}
        await cursor.execute(
            "SELECT customer_id, version FROM customers"
            f" WHERE customer_id IN ({placeholders(len(versions))})",
            list(versions),
        )
        newer = [key for key, version in await cursor.fetchall() if version != versions[key]]
        if not newer:
            return []
        return list((await fetch_by_keys(cursor, CUSTOMERS, newer)).values())

    async def _put_right(self) -> None:
        """The customers in doubt whose state in DynamoDB is not MySQL's get MySQL's."""
        due = self._in_doubt.due(now=self._now())
        for batch in chunks(due, GET_LIMIT):
            keys = [items.customer_key(customer_id) for customer_id in batch]
            found = await get_items(self._client, table=self._table, keys=keys)
            stored = {_id_of(item): item.get("version", {}).get("N") for item in found}
            async with self._pool.acquire() as connection, connection.cursor() as cursor:
                current = await fetch_by_keys(cursor, CUSTOMERS, list(batch))
            behind = [c for c in current.values() if stored.get(str(c.id)) != str(c.version)]
            if behind:
                log.info("outbox relay: %d customers put right in DynamoDB", len(behind))
                await self.write_states(behind)

    async def write_states(self, customers: Sequence[CustomerRecord]) -> None:
        """These states of customers, then MySQL's newer ones where it has any: what a
        delivery does, and what a late one (of states since changed) ends with."""
        # Autocommit: each re-read of the versions sees the latest commits.
        async with self._pool.acquire() as connection, connection.cursor() as cursor:
            await self._write(cursor, list(customers), events=[])

    async def _report_backlog(self, *, failing: bool) -> None:
        """The backlog now and then, to the observer (the outbox gauges) and, while
        rows wait or the relay fails, in a log line; oftener matters less than never."""
        now = asyncio.get_running_loop().time()
        if now - self._last_report < self._report_every_s:
            return
        self._last_report = now
        try:
            backlog = await self.backlog()
        except Exception as error:
            log.warning("outbox backlog unknown (%s)", type(error).__name__)
            return
        self._observer.outbox_backlog(rows=backlog.rows, oldest_age_s=backlog.oldest_age_s)
        if backlog.rows or failing:
            age = "-" if backlog.oldest_age_s is None else f"{backlog.oldest_age_s:.1f}"
            log.info("outbox backlog: %d rows, oldest %s s", backlog.rows, age)

    async def drain(self) -> int:
        """Until the outbox is empty (for `graphql-api outbox drain` and tests), then,
        after a failed write, until no write in doubt can land any more."""

        async def worker() -> int:
            total = 0
            while delivered := await self.drain_once():
                total += delivered
            return total

        totals = await bounded_gather(
            lambda _: worker(), range(self._workers), concurrency=self._workers
        )
        while (settled_at := self._in_doubt.settled_at()) is not None:
            await self._put_right()
            await asyncio.sleep(min(max(settled_at - self._now(), 0.0), 1.0))
        return sum(totals)

    async def run(self, stop: asyncio.Event) -> None:
        """Beside the server until `stop` is set; outages of either store are waited out."""
        await asyncio.gather(*(self._work(stop, reports=n == 0) for n in range(self._workers)))

    async def _work(self, stop: asyncio.Event, *, reports: bool) -> None:
        failures_in_a_row = 0
        while not stop.is_set():
            try:
                delivered = await self.drain_once()
                await self._put_right()
                failures_in_a_row = 0
            except Exception as error:
                # The relay outlives any one failure of either store; it is counted,
                # logged by type only (driver messages can hold SQL or hosts) and retried.
                delivered = 0
                failures_in_a_row += 1
                self.failures += 1
                log.warning("outbox relay failed (%s); retrying", type(error).__name__)
            if reports:
                await self._report_backlog(failing=failures_in_a_row > 0)
            if delivered:
                continue
            pause = self._idle_s
            if failures_in_a_row:
                pause = full_jitter_delay(
                    failures_in_a_row, base_s=0.2, cap_s=self._max_backoff_s, draw=random.random()
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)


def _id_of(item: items.Item) -> str | None:
    return item.get("id", {}).get("S")


@asynccontextmanager
async def running_relay(
    relay: OutboxRelay, *, stop_timeout_s: float = STOP_TIMEOUT_S
) -> AsyncIterator[OutboxRelay]:
    """The relay runs as a task while the block runs, and is stopped when it ends.

    Stopping lets it finish the batch in hand; one stuck on a stalled store is
    cut off after `stop_timeout_s` (its rows stay in the outbox for the next
    relay), so shutdown ends.
    """
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop), name="outbox-relay")
    try:
        yield relay
    finally:
        stop.set()
        done, _ = await asyncio.wait({task}, timeout=stop_timeout_s)
        if not done:
            log.warning("outbox relay still busy after %g s: cancelled", stop_timeout_s)
            task.cancel()
            await asyncio.wait({task}, timeout=stop_timeout_s)
        if task.done() and not task.cancelled():
            task.result()
        log.info("outbox relay stopped (%d rows delivered)", relay.delivered)
