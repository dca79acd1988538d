"""Opens and closes the pools and clients the stores use, in one place.

`open_resources` opens everything on one AsyncExitStack, in this order: the
MySQL pools and the DynamoDB client, the stores over them (each behind its
circuit breaker and observed), and the outbox relay. `Resources.aclose` closes
them in reverse, so the relay stops before the pool and the client it uses.
Called from the app's lifespan and from CLI commands; nothing is opened at
import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING

import aioboto3
import asyncmy
from aiobotocore.config import AioConfig
from asyncmy import converters
from asyncmy.pool import Pool

from graphql_api.settings import DynamoDBSettings, MySQLSettings, Settings, StoreKind
from graphql_api.stores.breaker import BreakerState, CircuitBreaker
from graphql_api.stores.chain import FallbackChain, RetryPolicy, StoreSlot
from graphql_api.stores.demo import demo_data
from graphql_api.stores.dynamodb import DynamoDBStore
from graphql_api.stores.idempotency import (
    IdempotencyKeys,
    MemoryIdempotencyKeys,
    MySQLIdempotencyKeys,
)
from graphql_api.stores.memory import MemoryStore
from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.mysql_feed import MySQLEventFeed
from graphql_api.stores.mysql_tables import DRIVER_DECODERS
from graphql_api.stores.observed import ObservedFeed, observed_reader, observed_writer
from graphql_api.stores.observer import NoObserver, StoreObserver
from graphql_api.stores.protocol import EventFeedReader, StoreReader, StoreWriter
from graphql_api.sync.outbox import OutboxRelay, running_relay

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

log = logging.getLogger("graphql_api.resources")

# A known session: UTC times, strict about bad values, no surprises in quoting.
_SESSION_SETUP = (
    "SET time_zone = '+00:00', SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
    "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
)


@dataclass(frozen=True, slots=True)
class PoolUsage:
    in_use: int
    idle: int
    max: int


@dataclass(frozen=True)
class Resources:
    """What the app serves from; `aclose` (or leaving `async with`) closes it all."""

    # Reads fall back along the chain; writes go to its primary only.
    stores: FallbackChain
    # Every configured store by name, for /readyz: those reads go to, in the
    # chain's order, and the writer when reads never go to it (a reader endpoint).
    read_stores: Mapping[str, StoreReader]
    write_only_stores: Mapping[str, StoreReader]
    # The MySQL pools (writer, reader endpoint) by name, for the pool gauges.
    pools: Mapping[str, Pool]
    _stack: AsyncExitStack
    # POST /assignments' idempotency keys, kept by the store that takes the
    # writes; None when no store does (writes answer STORE_UNAVAILABLE then).
    idempotency_keys: IdempotencyKeys | None = None
    # The audit trail in event order, read from the store that takes the writes
    # (the live feed); None when none can (DynamoDB keeps no order across customers).
    feed: EventFeedReader | None = None

    def pool_usage(self) -> dict[str, PoolUsage]:
        return {
            name: PoolUsage(in_use=pool.size - pool.freesize, idle=pool.freesize, max=pool.maxsize)
            for name, pool in self.pools.items()
        }

    async def aclose(self) -> None:
        await self._stack.aclose()

    async def __aenter__(self) -> Resources:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


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
        conv={**converters.conversions, **DRIVER_DECODERS},
    )
    return pool


async def close_mysql_pool(pool: Pool) -> None:
    pool.close()
    await pool.wait_closed()
    log.info("MySQL pool closed")


@asynccontextmanager
async def mysql_pool(mysql: MySQLSettings) -> AsyncIterator[Pool]:
    """A MySQL pool; closed (its connections too) when the block ends."""
    pool = await open_mysql_pool(mysql)
    try:
        yield pool
    finally:
        await close_mysql_pool(pool)


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
        # Every request is built by our own code from typed records, and DynamoDB checks
        # each one itself; botocore's walk of every item's shapes before sending cost the
        # outbox relay a fifth of its CPU (make bench-migration).
        parameter_validation=False,
    )
    async with session.client(
        "dynamodb", endpoint_url=dynamodb.endpoint_url, config=config
    ) as client:
        yield client


def memory_store() -> MemoryStore:
    data = demo_data()
    return MemoryStore(sales_reps=data.sales_reps, customers=data.customers, events=data.events)


@dataclass(frozen=True, slots=True)
class _Connections:
    """The pools and the client the configured stores need, already open."""

    # The MySQL pools by name: "mysql" (the writer endpoint), "mysql-reader".
    pools: dict[str, Pool]
    dynamodb: DynamoDBClient | None


async def _open_connections(settings: Settings, stack: AsyncExitStack) -> _Connections:
    pools: dict[str, Pool] = {}
    client = None
    if StoreKind.MYSQL in settings.stores:
        mysql = settings.mysql
        assert mysql is not None
        pools["mysql"] = await stack.enter_async_context(mysql_pool(mysql))
        log.info(
            "MySQL writer at %s:%d/%s (pool of %d)",
            mysql.host,
            mysql.port,
            mysql.database,
            mysql.pool_size,
        )
        if mysql.reader_host is not None:
            reader = replace(mysql, host=mysql.reader_host)
            pools["mysql-reader"] = await stack.enter_async_context(mysql_pool(reader))
            log.info("MySQL reader at %s:%d", mysql.reader_host, mysql.port)
    if StoreKind.DYNAMODB in settings.stores:
        dynamodb = settings.dynamodb
        assert dynamodb is not None
        client = await stack.enter_async_context(dynamodb_client(dynamodb))
        log.info("DynamoDB table %s in %s", dynamodb.table, dynamodb.region)
    return _Connections(pools=pools, dynamodb=client)


class _Slots:
    """Puts each store behind its circuit breaker, observed under its name."""

    def __init__(self, settings: Settings, observer: StoreObserver) -> None:
        self._resilience = settings.resilience
        self._observer = observer

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

    def reader(self, name: str, store: StoreReader) -> StoreSlot[StoreReader]:
        observed = observed_reader(store, observer=self._observer, name=name)
        return StoreSlot(name=name, store=observed, breaker=self._breaker(name))

    def writer(self, name: str, store: StoreWriter) -> StoreSlot[StoreWriter]:
        observed = observed_writer(store, observer=self._observer, name=name)
        return StoreSlot(name=name, store=observed, breaker=self._breaker(name))

    def feed(self, name: str, feed: EventFeedReader) -> EventFeedReader:
        return ObservedFeed(feed, observer=self._observer, name=name)


@dataclass(frozen=True, slots=True)
class _ChainSlots:
    readers: list[StoreSlot[StoreReader]]
    writer: StoreSlot[StoreWriter] | None
    keys: IdempotencyKeys | None = None
    feed: EventFeedReader | None = None


def _keys_lease_s(settings: Settings) -> float:
    """How long a claimed key waits for its answer before it counts as abandoned:
    longer than any request may run."""
    return 2 * settings.limits.request_timeout_s


def _mysql_slots(
    settings: Settings, connections: _Connections, slots: _Slots, *, primary: bool
) -> _ChainSlots:
    """Without a reader endpoint, reads and writes share one slot (one breaker).
    Only the primary takes writes; a MySQL behind another store never does."""
    mysql = settings.mysql
    assert mysql is not None
    timeout_s = mysql.query_timeout_s
    writer = None
    keys = None
    feed = None
    if primary or mysql.reader_host is None:
        outbox = settings.keeps_fallback_fresh
        primary_store = MySQLStore(
            connections.pools["mysql"],
            timeout_s=timeout_s,
            pool_wait_s=mysql.pool_wait_s,
            outbox=outbox,
        )
        writer = slots.writer("mysql", primary_store)
        keys = MySQLIdempotencyKeys(primary_store, lease_s=_keys_lease_s(settings))
        # The writer's own events, without a reader endpoint's replica lag.
        feed = slots.feed("mysql", MySQLEventFeed(primary_store))
    if mysql.reader_host is None:
        assert writer is not None
        reader: StoreSlot[StoreReader] = writer
    else:
        name = "mysql-reader"
        reader = slots.reader(
            name,
            MySQLStore(
                connections.pools[name],
                timeout_s=timeout_s,
                pool_wait_s=mysql.pool_wait_s,
                name=name,
            ),
        )
    if not primary:
        return _ChainSlots(readers=[reader], writer=None)
    return _ChainSlots(readers=[reader], writer=writer, keys=keys, feed=feed)


def _chain_slots(settings: Settings, connections: _Connections, slots: _Slots) -> _ChainSlots:
    """The slots reads go to, in the settings' order, and the primary's writer."""
    readers: list[StoreSlot[StoreReader]] = []
    writer: StoreSlot[StoreWriter] | None = None
    keys: IdempotencyKeys | None = None
    feed: EventFeedReader | None = None
    for position, kind in enumerate(settings.stores):
        if kind is StoreKind.MEMORY:
            # Settings allow the memory store only on its own.
            log.info("serving the in-memory demo store (source MEMORY)")
            store = memory_store()
            writer = slots.writer("memory", store)
            keys = MemoryIdempotencyKeys(lease_s=_keys_lease_s(settings))
            feed = slots.feed("memory", store)
            readers.append(writer)
        elif kind is StoreKind.MYSQL:
            mysql = _mysql_slots(settings, connections, slots, primary=position == 0)
            readers += mysql.readers
            writer = writer or mysql.writer
            keys = keys or mysql.keys
            feed = feed or mysql.feed
        else:
            dynamodb = settings.dynamodb
            assert dynamodb is not None
            assert connections.dynamodb is not None
            dynamodb_store = DynamoDBStore(
                connections.dynamodb, table=dynamodb.table, timeout_s=dynamodb.timeout_s
            )
            readers.append(slots.reader("dynamodb", dynamodb_store))
    return _ChainSlots(readers=readers, writer=writer, keys=keys, feed=feed)


async def _start_relay(
    settings: Settings, connections: _Connections, stack: AsyncExitStack, observer: StoreObserver
) -> None:
    """With MySQL leading and DynamoDB following, the outbox relay runs beside the server."""
    if not (settings.keeps_fallback_fresh and settings.outbox_relay):
        return
    assert settings.dynamodb is not None
    assert connections.dynamodb is not None
    relay = OutboxRelay(
        pool=connections.pools["mysql"],
        client=connections.dynamodb,
        table=settings.dynamodb.table,
        report_every_s=settings.outbox_backlog_interval_s,
        observer=observer,
    )
    await stack.enter_async_context(running_relay(relay))
    log.info("outbox relay started for DynamoDB table %s", settings.dynamodb.table)


async def open_resources(
    settings: Settings,
    *,
    observer: StoreObserver | None = None,
    on_dynamodb_client: Callable[[DynamoDBClient], None] | None = None,
) -> Resources:
    """Everything the settings ask for, open; on a failure, what was opened is closed.
    `on_dynamodb_client` sees the DynamoDB client once it is open (tracing registers
    its `traceparent` header there)."""
    observer = observer or NoObserver()
    async with AsyncExitStack() as opening:
        connections = await _open_connections(settings, opening)
        if on_dynamodb_client is not None and connections.dynamodb is not None:
            on_dynamodb_client(connections.dynamodb)
        chain_slots = _chain_slots(settings, connections, _Slots(settings, observer))
        await _start_relay(settings, connections, opening, observer)
        # Opened without a failure: from here the Resources close it all.
        stack = opening.pop_all()
    readers, writer = chain_slots.readers, chain_slots.writer
    resilience = settings.resilience
    chain = FallbackChain(
        readers=readers,
        writer=writer,
        policy=RetryPolicy(
            attempts=resilience.attempts_per_store,
            base_delay_s=resilience.retry_base_delay_s,
            max_delay_s=resilience.retry_max_delay_s,
        ),
        observer=observer,
    )
    log.info("reading from %s", " then ".join(slot.name for slot in readers))
    read_stores = {slot.name: slot.store for slot in readers}
    write_only: dict[str, StoreReader] = {}
    if writer is not None and writer.name not in read_stores:
        write_only[writer.name] = writer.store
    return Resources(
        stores=chain,
        read_stores=read_stores,
        write_only_stores=write_only,
        pools=connections.pools,
        _stack=stack,
        idempotency_keys=chain_slots.keys,
        feed=chain_slots.feed,
    )
