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

from graphql_api.demo import demo_data
from graphql_api.settings import (
    DynamoDBSettings,
    MySQLSettings,
    ResilienceSettings,
    Settings,
    StoreKind,
)
from graphql_api.stores.breaker import CircuitBreaker
from graphql_api.stores.chain import FallbackChain, RetryPolicy, StoreSlot
from graphql_api.stores.dynamodb import DynamoDBStore
from graphql_api.stores.memory import MemoryStore
from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.protocol import Store
from graphql_api.sync.outbox import OutboxRelay

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

log = logging.getLogger("graphql_api.resources")

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

    @property
    def reader(self) -> FallbackChain:
        return self.stores

    @property
    def writer(self) -> FallbackChain:
        return self.stores

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


def _slot(name: str, store: Store, resilience: ResilienceSettings) -> StoreSlot:
    breaker = CircuitBreaker(
        failure_threshold=resilience.breaker_failure_threshold,
        cooldown_s=resilience.breaker_cooldown_s,
    )
    return StoreSlot(name=name, store=store, breaker=breaker)


async def _mysql_slots(
    mysql: MySQLSettings, resilience: ResilienceSettings, stack: AsyncExitStack, *, outbox: bool
) -> tuple[StoreSlot, StoreSlot, Pool]:
    """The slot queries read from, the writer's slot (one and the same without a
    reader endpoint, so reads and writes share one breaker) and the writer's pool."""
    pool = await open_mysql_pool(mysql)
    stack.push_async_callback(close_mysql_pool, pool)
    store = MySQLStore(pool, timeout_s=mysql.query_timeout_s, outbox=outbox)
    writer = _slot("mysql", store, resilience)
    log.info(
        "MySQL writer at %s:%d/%s (pool of %d)",
        mysql.host,
        mysql.port,
        mysql.database,
        mysql.pool_size,
    )
    if mysql.reader_host is None:
        return writer, writer, pool
    reader_pool = await open_mysql_pool(replace(mysql, host=mysql.reader_host))
    stack.push_async_callback(close_mysql_pool, reader_pool)
    name = "mysql-reader"
    reader_store = MySQLStore(reader_pool, timeout_s=mysql.query_timeout_s, name=name)
    log.info("MySQL reader at %s:%d", mysql.reader_host, mysql.port)
    return _slot(name, reader_store, resilience), writer, pool


async def _open_slots(
    settings: Settings, stack: AsyncExitStack
) -> tuple[list[StoreSlot], StoreSlot | None]:
    readers: list[StoreSlot] = []
    writer: StoreSlot | None = None
    writer_pool: Pool | None = None
    dynamodb: DynamoDBClient | None = None
    resilience = settings.resilience
    for position, kind in enumerate(settings.stores):
        if kind is StoreKind.MEMORY:
            log.info("serving the in-memory demo store (source MEMORY)")
            reader = writer = _slot("memory", memory_store(), resilience)
        elif kind is StoreKind.MYSQL:
            assert settings.mysql is not None
            reader, mysql_writer, pool = await _mysql_slots(
                settings.mysql, resilience, stack, outbox=settings.keeps_fallback_fresh
            )
            # Only the primary takes writes; a MySQL behind another store never does.
            if position == 0:
                writer, writer_pool = mysql_writer, pool
        else:
            assert settings.dynamodb is not None
            client = dynamodb = await stack.enter_async_context(dynamodb_client(settings.dynamodb))
            store = DynamoDBStore(
                client, table=settings.dynamodb.table, timeout_s=settings.dynamodb.timeout_s
            )
            reader = _slot("dynamodb", store, resilience)
            log.info("DynamoDB table %s in %s", settings.dynamodb.table, settings.dynamodb.region)
        readers.append(reader)
    if settings.keeps_fallback_fresh and settings.outbox_relay:
        assert writer_pool is not None
        assert dynamodb is not None
        assert settings.dynamodb is not None
        await _start_relay(writer_pool, dynamodb, settings.dynamodb.table, stack)
    return readers, writer


async def _start_relay(
    pool: Pool, client: DynamoDBClient, table: str, stack: AsyncExitStack
) -> None:
    """The outbox relay runs beside the server; it stops before the pool and client close."""
    relay = OutboxRelay(pool=pool, client=client, table=table)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop), name="outbox-relay")

    async def stop_relay() -> None:
        stop.set()
        await task

    stack.push_async_callback(stop_relay)
    log.info("outbox relay started for DynamoDB table %s", table)


async def open_resources(settings: Settings) -> Resources:
    stack = AsyncExitStack()
    try:
        readers, writer = await _open_slots(settings, stack)
    except BaseException:
        await stack.aclose()
        raise
    resilience = settings.resilience
    chain = FallbackChain(
        readers=readers,
        writer=writer,
        policy=RetryPolicy(
            attempts=resilience.attempts_per_store,
            base_delay_s=resilience.retry_base_delay_s,
            max_delay_s=resilience.retry_max_delay_s,
        ),
    )
    log.info("reading from %s", " then ".join(slot.name for slot in readers))
    return Resources(stores=chain, _closers=[stack.aclose])
