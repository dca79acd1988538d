"""Opens and closes the pools and clients the stores use, in one place.

Called from the app's lifespan and from CLI commands; nothing is opened at
import time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import aioboto3
import asyncmy
from aiobotocore.config import AioConfig
from asyncmy.pool import Pool

from graphql_api.settings import (
    DynamoDBSettings,
    MySQLSettings,
    ResilienceSettings,
    Settings,
    StoreKind,
)
from graphql_api.stores.breaker import BreakerState, CircuitBreaker
from graphql_api.stores.chain import FallbackChain, RetryPolicy, StoreSlot
from graphql_api.stores.demo import demo_data
from graphql_api.stores.dynamodb import DynamoDBStore
from graphql_api.stores.memory import MemoryStore
from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.observed import observed_reader, observed_writer
from graphql_api.stores.observer import NoObserver, StoreObserver
from graphql_api.stores.protocol import StoreReader, StoreWriter
from graphql_api.sync.outbox import OutboxRelay
from graphql_api.web.metrics import PoolUsage

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

log = logging.getLogger("graphql_api.resources")

# How long shutdown waits for the outbox relay's batch in hand before cutting it off.
_RELAY_STOP_TIMEOUT_S = 10.0

# A known session: UTC times, strict about bad values, no surprises in quoting.
_SESSION_SETUP = (
    "SET time_zone = '+00:00', SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
    "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
)


@dataclass
class Resources:
    # Reads fall back along the chain; writes go to its primary only.
    stores: FallbackChain
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Every configured store by name, for /readyz: those reads go to, in the
    # chain's order, and the writer when reads never go to it (a reader endpoint).
    read_stores: dict[str, StoreReader] = field(default_factory=dict)
    write_only_stores: dict[str, StoreReader] = field(default_factory=dict)
    # The MySQL pools (writer, reader endpoint) by name, for the pool gauges.
    _pools: dict[str, Pool] = field(default_factory=dict)

    def pool_usage(self) -> dict[str, PoolUsage]:
        return {
            name: PoolUsage(in_use=pool.size - pool.freesize, idle=pool.freesize, max=pool.maxsize)
            for name, pool in self._pools.items()
        }

    async def aclose(self) -> None:
        while self._closers:
            await self._closers.pop()()


async def open_mysql_pool(mysql: MySQLSettings) -> Pool:
    # minsize=0: the server starts while MySQL is down and connects on demand.
    pool: Pool = await asyncmy.create_pool(
        host=mysql.host,
        port=mysql.port,
        user=mysql.user,
        password=mysql.password,
        database=mysql.database,
        minsize=0,
        maxsize=mysql.pool_size,
        connect_timeout=mysql.connect_timeout_s,
        autocommit=True,
        charset="utf8mb4",
        init_command=_SESSION_SETUP,
        pool_recycle=300,
    )
    return pool


async def close_mysql_pool(pool: Pool) -> None:
    pool.close()
    await pool.wait_closed()
    log.info("MySQL pool closed")


@asynccontextmanager
async def dynamodb_client(dynamodb: DynamoDBSettings) -> AsyncIterator[DynamoDBClient]:
    """A DynamoDB client; closed (its HTTP pool too) when the block ends."""
    session = aioboto3.Session(
        aws_access_key_id=dynamodb.access_key_id,
        aws_secret_access_key=dynamodb.secret_access_key,
        aws_session_token=dynamodb.session_token,
        region_name=dynamodb.region,
    )
    config = AioConfig(
        connect_timeout=dynamodb.timeout_s,
        read_timeout=dynamodb.timeout_s,
        # The chain retries with its own budget and breaker; botocore's retries
        # inside each attempt would multiply the latency during an outage.
        retries={"total_max_attempts": 1},
        max_pool_connections=50,
    )
    async with session.client(
        "dynamodb", endpoint_url=dynamodb.endpoint_url, config=config
    ) as client:
        yield client


def memory_store() -> MemoryStore:
    data = demo_data()
    return MemoryStore(sales_reps=data.sales_reps, customers=data.customers, events=data.events)


class _Opener:
    """Opens the configured stores, each behind its breaker and counted by the
    observer; everything opened is closed by `stack`, in reverse order."""

    def __init__(self, settings: Settings, stack: AsyncExitStack, observer: StoreObserver) -> None:
        self._settings = settings
        self._resilience: ResilienceSettings = settings.resilience
        self._stack = stack
        self._observer = observer
        self.pools: dict[str, Pool] = {}
        self.writer: StoreSlot[StoreWriter] | None = None
        self._writer_pool: Pool | None = None
        self._dynamodb: DynamoDBClient | None = None

    def _breaker(self, name: str) -> CircuitBreaker:
        observer = self._observer

        def report(state: BreakerState) -> None:
            observer.breaker_state(store=name, state=state)

        breaker = CircuitBreaker(
            failure_threshold=self._resilience.breaker_failure_threshold,
            cooldown_s=self._resilience.breaker_cooldown_s,
            on_change=report,
        )
        report(breaker.state)
        return breaker

    def _reader_slot(self, name: str, store: StoreReader) -> StoreSlot[StoreReader]:
        observed = observed_reader(store, observer=self._observer, name=name)
        return StoreSlot(name=name, store=observed, breaker=self._breaker(name))

    def _writer_slot(self, name: str, store: StoreWriter) -> StoreSlot[StoreWriter]:
        observed = observed_writer(store, observer=self._observer, name=name)
        return StoreSlot(name=name, store=observed, breaker=self._breaker(name))

    async def _pool(self, name: str, mysql: MySQLSettings) -> Pool:
        pool = await open_mysql_pool(mysql)
        self._stack.push_async_callback(close_mysql_pool, pool)
        self.pools[name] = pool
        return pool

    async def reader(self, kind: StoreKind, *, primary: bool) -> StoreSlot[StoreReader]:
        """The slot reads of `kind` go to; the primary's writer slot is kept aside."""
        if kind is StoreKind.MEMORY:
            log.info("serving the in-memory demo store (source MEMORY)")
            self.writer = self._writer_slot("memory", memory_store())
            return self.writer
        if kind is StoreKind.MYSQL:
            return await self._mysql(primary=primary)
        return await self._dynamodb_slot()

    async def _mysql(self, *, primary: bool) -> StoreSlot[StoreReader]:
        """Without a reader endpoint, reads and writes share one slot (one breaker)."""
        mysql = self._settings.mysql
        assert mysql is not None
        pool = await self._pool("mysql", mysql)
        outbox = self._settings.keeps_fallback_fresh
        store = MySQLStore(pool, timeout_s=mysql.query_timeout_s, outbox=outbox)
        log.info(
            "MySQL writer at %s:%d/%s (pool of %d)",
            mysql.host,
            mysql.port,
            mysql.database,
            mysql.pool_size,
        )
        writer = self._writer_slot("mysql", store) if primary or mysql.reader_host is None else None
        # Only the primary takes writes; a MySQL behind another store never does.
        if primary:
            self.writer, self._writer_pool = writer, pool
        if mysql.reader_host is None:
            assert writer is not None
            return writer
        name = "mysql-reader"
        reader_pool = await self._pool(name, replace(mysql, host=mysql.reader_host))
        log.info("MySQL reader at %s:%d", mysql.reader_host, mysql.port)
        reader = MySQLStore(reader_pool, timeout_s=mysql.query_timeout_s, name=name)
        return self._reader_slot(name, reader)

    async def _dynamodb_slot(self) -> StoreSlot[StoreReader]:
        dynamodb = self._settings.dynamodb
        assert dynamodb is not None
        client = await self._stack.enter_async_context(dynamodb_client(dynamodb))
        self._dynamodb = client
        log.info("DynamoDB table %s in %s", dynamodb.table, dynamodb.region)
        return self._reader_slot(
            "dynamodb", DynamoDBStore(client, table=dynamodb.table, timeout_s=dynamodb.timeout_s)
        )

    async def start_relay(self) -> None:
        """The outbox relay runs beside the server; it stops before the pool and client close."""
        settings = self._settings
        if not (settings.keeps_fallback_fresh and settings.outbox_relay):
            return
        assert self._writer_pool is not None
        assert self._dynamodb is not None
        assert settings.dynamodb is not None
        relay = OutboxRelay(
            pool=self._writer_pool,
            client=self._dynamodb,
            table=settings.dynamodb.table,
            report_every_s=settings.outbox_backlog_interval_s,
            observer=self._observer,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop), name="outbox-relay")

        async def stop_relay() -> None:
            stop.set()
            # It finishes the batch in hand; one stuck on a stalled store is cut off
            # (its rows stay in the outbox for the next relay) so shutdown ends.
            done, _ = await asyncio.wait({task}, timeout=_RELAY_STOP_TIMEOUT_S)
            if not done:
                log.warning("outbox relay still busy after %g s: cancelled", _RELAY_STOP_TIMEOUT_S)
                task.cancel()
                await asyncio.wait({task}, timeout=_RELAY_STOP_TIMEOUT_S)
            if task.done() and not task.cancelled():
                task.result()
            log.info("outbox relay stopped (%d rows delivered)", relay.delivered)

        self._stack.push_async_callback(stop_relay)
        log.info("outbox relay started for DynamoDB table %s", settings.dynamodb.table)


async def open_resources(settings: Settings, *, observer: StoreObserver | None = None) -> Resources:
    stack = AsyncExitStack()
    opener = _Opener(settings, stack, observer or NoObserver())
    try:
        readers = [
            await opener.reader(kind, primary=position == 0)
            for position, kind in enumerate(settings.stores)
        ]
        await opener.start_relay()
    except BaseException:
        await stack.aclose()
        raise
    resilience = settings.resilience
    chain = FallbackChain(
        readers=readers,
        writer=opener.writer,
        policy=RetryPolicy(
            attempts=resilience.attempts_per_store,
            base_delay_s=resilience.retry_base_delay_s,
            max_delay_s=resilience.retry_max_delay_s,
        ),
        observer=observer or NoObserver(),
    )
    log.info("reading from %s", " then ".join(slot.name for slot in readers))
    read_stores = {slot.name: slot.store for slot in readers}
    writer = opener.writer
    return Resources(
        stores=chain,
        _closers=[stack.aclose],
        read_stores=read_stores,
        write_only_stores=(
            {writer.name: writer.store} if writer and writer.name not in read_stores else {}
        ),
        _pools=opener.pools,
    )
