"""Opens and closes the pools and clients the stores use, in one place.

Called from the app's lifespan and from CLI commands; nothing is opened at
import time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncmy
from asyncmy.pool import Pool

from graphql_api.demo import demo_data
from graphql_api.metrics import PoolUsage
from graphql_api.settings import MySQLSettings, Settings, StoreKind
from graphql_api.stores.memory import MemoryStore
from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.observed import ObservedStore
from graphql_api.stores.observer import NoObserver, StoreObserver
from graphql_api.stores.protocol import Store

log = logging.getLogger("graphql_api.resources")

# A known session: UTC times, strict about bad values, no surprises in quoting.
_SESSION_SETUP = (
    "SET time_zone = '+00:00', SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
    "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
)


@dataclass
class Resources:
    reader: Store
    writer: Store
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Every store that can answer reads, by name, for /readyz.
    read_stores: dict[str, Store] = field(default_factory=dict)
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


def memory_store() -> MemoryStore:
    data = demo_data()
    return MemoryStore(sales_reps=data.sales_reps, customers=data.customers, events=data.events)


async def open_resources(settings: Settings, *, observer: StoreObserver | None = None) -> Resources:
    watch = observer or NoObserver()
    primary = settings.stores[0]
    if primary is StoreKind.MEMORY:
        log.info("serving the in-memory demo store (source MEMORY)")
        store: Store = ObservedStore(memory_store(), observer=watch, name="memory")
        return Resources(reader=store, writer=store, read_stores={"memory": store})
    assert settings.mysql is not None
    pool = await open_mysql_pool(settings.mysql)
    mysql_store = ObservedStore(
        MySQLStore(pool, timeout_s=settings.mysql.query_timeout_s), observer=watch, name="mysql"
    )
    log.info(
        "serving MySQL at %s:%d/%s (pool of %d)",
        settings.mysql.host,
        settings.mysql.port,
        settings.mysql.database,
        settings.mysql.pool_size,
    )
    return Resources(
        reader=mysql_store,
        writer=mysql_store,
        _closers=[lambda: close_mysql_pool(pool)],
        read_stores={"mysql": mysql_store},
        _pools={"mysql": pool},
    )
