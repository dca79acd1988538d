"""The outbox relay: copies committed MySQL changes to the DynamoDB fallback.

Each mutation leaves an outbox row in its own transaction. The relay takes a
batch of rows with FOR UPDATE SKIP LOCKED (so several server processes share
the work without taking the same row), copies each touched customer's
*current* state and the change's event, then deletes the rows and commits.

Delivery is at least once. A customer is written only when its version is
newer than the one DynamoDB holds (a conditional put), so a late or repeated
delivery never moves a customer back; events are immutable and keyed by id.
READ COMMITTED keeps the relay's locks to the rows it took: no gap lock on the
outbox's tail blocks a mutation while the relay talks to DynamoDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from asyncmy.pool import Pool
from botocore.exceptions import ClientError

from graphql_api.stores import dynamodb_items as items
from graphql_api.stores.backoff import full_jitter_delay
from graphql_api.stores.dynamodb_batch import put_items
from graphql_api.stores.mysql_tables import CUSTOMERS, EVENTS
from graphql_api.stores.observer import NoObserver, StoreObserver
from graphql_api.sync.mysql_rows import fetch_by_keys

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

    from graphql_api.stores.records import CustomerEventRecord, CustomerRecord

log = logging.getLogger("graphql_api.sync.outbox")

# How long stopping waits for the relay's batch in hand before cutting it off.
STOP_TIMEOUT_S = 10.0


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
        batch_size: int = 100,
        idle_s: float = 0.5,
        max_backoff_s: float = 30.0,
        report_every_s: float = 10.0,
        observer: StoreObserver | None = None,
    ) -> None:
        self._pool = pool
        self._client = client
        self._table = table
        self._batch_size = batch_size
        self._idle_s = idle_s
        self._max_backoff_s = max_backoff_s
        self._report_every_s = report_every_s
        self._observer: StoreObserver = observer or NoObserver()
        self._last_report = 0.0
        self.delivered = 0
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

    async def drain_once(self) -> int:
        """Delivers one batch; returns how many outbox rows it delivered (0: empty)."""
        async with self._pool.acquire() as connection, connection.cursor() as cursor:
            await cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            await connection.begin()
            try:
                await cursor.execute(
                    "SELECT outbox_id, customer_id, event_id FROM outbox ORDER BY outbox_id"
                    " LIMIT %s FOR UPDATE SKIP LOCKED",
                    [self._batch_size],
                )
                rows = list(await cursor.fetchall())
                if rows:
                    customer_ids = sorted({row[1] for row in rows})
                    customers = await fetch_by_keys(cursor, CUSTOMERS, customer_ids)
                    events = await fetch_by_keys(
                        cursor, EVENTS, sorted({int(row[2]) for row in rows})
                    )
                    await self._deliver(list(customers.values()), list(events.values()))
                    # One point delete per row: an IN list may be run as a scan from the
                    # table's start, which waits on rows other drainers hold: a deadlock.
                    await cursor.executemany(
                        "DELETE FROM outbox WHERE outbox_id = %s", [[row[0]] for row in rows]
                    )
            except BaseException:
                await connection.rollback()
                raise
            await connection.commit()
        self.delivered += len(rows)
        return len(rows)

    async def _deliver(
        self, customers: list[CustomerRecord], events: list[CustomerEventRecord]
    ) -> None:
        await put_items(
            self._client,
            table=self._table,
            rows=[items.event_item(e) for e in events],
        )
        await asyncio.gather(*(self._put_if_newer(customer) for customer in customers))

    async def _put_if_newer(self, customer: CustomerRecord) -> None:
        try:
            await self._client.put_item(
                TableName=self._table,
                Item=items.customer_item(customer),
                ConditionExpression="attribute_not_exists(#pk) OR #version < :version",
                ExpressionAttributeNames={"#pk": items.PK, "#version": "version"},
                ExpressionAttributeValues={":version": {"N": str(customer.version)}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            # DynamoDB already holds this version or a newer one: nothing to do.

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
        """Until the outbox is empty (for `graphql-api outbox drain` and tests)."""
        total = 0
        while delivered := await self.drain_once():
            total += delivered
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Beside the server until `stop` is set; outages of either store are waited out."""
        failures_in_a_row = 0
        while not stop.is_set():
            try:
                delivered = await self.drain_once()
                failures_in_a_row = 0
            except Exception as error:
                # The relay outlives any one failure of either store; it is counted,
                # logged by type only (driver messages can hold SQL or hosts) and retried.
                delivered = 0
                failures_in_a_row += 1
                self.failures += 1
                log.warning("outbox relay failed (%s); retrying", type(error).__name__)
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
