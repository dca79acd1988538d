"""The relay never leaves a customer older in DynamoDB than in MySQL, though its
BatchWriteItem calls carry no condition, and delivers every event once: against MariaDB and
moto as real processes. Where two workers' writes must land in a given order, the test
holds each write at the client until it lets it go (nothing else is changed)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pytest
from asyncmy.pool import Pool

from devstack.env import dynamodb_env, mysql_env
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from graphql_api.admin import dynamodb_table
from graphql_api.resources import dynamodb_client, mysql_pool
from graphql_api.settings import load_settings
from graphql_api.stores import dynamodb_items as items
from graphql_api.stores.dynamodb_batch import put_items
from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.mysql_tables import CUSTOMERS
from graphql_api.stores.records import CustomerChange, CustomerRecord
from graphql_api.sync.in_doubt import InDoubt
from graphql_api.sync.mysql_rows import fetch_by_keys
from graphql_api.sync.outbox import OutboxRelay

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

CUSTOMER = "C-00001"


@dataclass
class _Stores:
    pool: Pool
    client: DynamoDBClient
    table: str
    relay: OutboxRelay

    async def mysql_state(self) -> CustomerRecord:
        async with self.pool.acquire() as connection, connection.cursor() as cursor:
            return (await fetch_by_keys(cursor, CUSTOMERS, [CUSTOMER]))[CUSTOMER]

    async def moved_on(self) -> tuple[CustomerRecord, CustomerRecord]:
        """The customer's state now, and a newer one MySQL commits after it."""
        before = await self.mysql_state()
        async with self.pool.acquire() as connection, connection.cursor() as cursor:
            await cursor.execute(
                "UPDATE customers SET city = 'Moved On', version = version + 1"
                " WHERE customer_id = %s",
                [CUSTOMER],
            )
        return before, await self.mysql_state()

    async def dynamodb_state(self) -> tuple[str, str]:
        response = await self.client.get_item(
            TableName=self.table, Key=items.customer_key(CUSTOMER), ConsistentRead=True
        )
        item = response["Item"]
        return item["version"]["N"], item["city"]["S"]


class _HeldWrites:
    """The DynamoDB client the relay writes through, each BatchWriteItem held until the
    test lets it go, so the test decides in which order two workers' writes land."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._held: list[tuple[str, asyncio.Event]] = []
        self._arrived = asyncio.Condition()
        self.open = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def batch_write_item(self, **request: Any) -> Any:
        if not self.open:
            gate = asyncio.Event()
            async with self._arrived:
                self._held.append((_versions_in(request), gate))
                self._arrived.notify_all()
            await gate.wait()
        return await self._client.batch_write_item(**request)

    async def held(self, count: int) -> list[str]:
        """Once `count` writes wait: the customer versions each carries, in arrival order."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self._held) >= count), timeout=30
            )
            return [versions for versions, _ in self._held]

    def release(self, index: int) -> None:
        self._held[index][1].set()


def _versions_in(request: dict[str, Any]) -> str:
    (puts,) = request["RequestItems"].values()
    customers = [
        put["PutRequest"]["Item"] for put in puts if "version" in put["PutRequest"]["Item"]
    ]
    return ",".join(item["version"]["N"] for item in customers)


@asynccontextmanager
async def _stores(
    mariadb: MariaDBServer, moto: MotoServer, in_doubt: InDoubt | None = None
) -> AsyncIterator[_Stores]:
    """A relay over the demo rows and an empty table of the test's own."""
    env = {**mysql_env(mariadb), **dynamodb_env(moto, DYNAMODB_TABLE=f"o-{uuid.uuid4().hex[:8]}")}
    settings = load_settings({**env, "GRAPHQL_API_STORES": "mysql,dynamodb"})
    assert settings.mysql is not None
    assert settings.dynamodb is not None
    table = settings.dynamodb.table
    async with mysql_pool(settings.mysql) as pool, dynamodb_client(settings.dynamodb) as client:
        await dynamodb_table.create_table(client, table=table)
        relay = OutboxRelay(pool=pool, client=client, table=table, in_doubt=in_doubt)
        yield _Stores(pool, client, table, relay)


def test_a_late_delivery_of_an_older_state_ends_with_mysqls_state(
    seeded_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    async def scenario() -> tuple[tuple[str, str], str]:
        async with _stores(seeded_mariadb, moto) as stores:
            older, newer = await stores.moved_on()
            # Another worker delivered the newer state; this one's older read lands after it.
            await stores.relay.write_states([newer])
            await stores.relay.write_states([older])
            return await stores.dynamodb_state(), str(newer.version)

    stored, newest = asyncio.run(scenario())
    assert stored == (newest, "Moved On")


def test_a_write_in_doubt_that_lands_late_is_put_right(
    seeded_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    async def scenario() -> tuple[tuple[str, str], str]:
        in_doubt = InDoubt(window_s=1.0, check_every_s=0.0)
        async with _stores(seeded_mariadb, moto, in_doubt) as stores:
            older, newer = await stores.moved_on()
            await stores.relay.write_states([newer])
            # A write the relay gave up on (a timeout) is applied after the newer one.
            in_doubt.note([CUSTOMER], now=asyncio.get_running_loop().time())
            stale = items.customer_item(older)
            await put_items(stores.client, table=stores.table, rows=[stale])
            assert await stores.dynamodb_state() == (str(older.version), older.city)
            # Draining (nothing waits in the outbox) ends once nothing is in doubt.
            await stores.relay.drain()
            return await stores.dynamodb_state(), str(newer.version)

    stored, newest = asyncio.run(scenario())
    assert stored == (newest, "Moved On")


async def _change_city(pool: Pool, city: str) -> None:
    """A mutation as the API makes it: the row, its event and an outbox row together."""
    store = MySQLStore(pool, timeout_s=30.0, pool_wait_s=30.0, outbox=True)
    change = CustomerChange(customer_id=CUSTOMER, actor="order-test", fields={"city": city})
    await store.update_customer(change=change)


async def _events(stores: _Stores) -> tuple[list[int], list[int]]:
    """The customer's event ids in MySQL, and its event items' ids in DynamoDB."""
    async with stores.pool.acquire() as connection, connection.cursor() as cursor:
        await cursor.execute(
            "SELECT event_id FROM customer_events WHERE customer_id = %s ORDER BY event_id",
            [CUSTOMER],
        )
        in_mysql = [int(row[0]) for row in await cursor.fetchall()]
    response = await stores.client.query(
        TableName=stores.table,
        KeyConditionExpression=f"{items.PK} = :pk AND begins_with({items.SK}, :events)",
        ExpressionAttributeValues={
            ":pk": items.customer_key(CUSTOMER)[items.PK],
            ":events": {"S": "EVENT#"},
        },
        ConsistentRead=True,
    )
    return in_mysql, sorted(int(item["event_id"]["N"]) for item in response["Items"])


async def _outbox_rows(stores: _Stores) -> int:
    async with stores.pool.acquire() as connection, connection.cursor() as cursor:
        await cursor.execute("SELECT COUNT(*) FROM outbox")
        (rows,) = await cursor.fetchone()
    return int(rows)


@dataclass(frozen=True)
class _Outcome:
    stored: tuple[str, str]
    newest: str
    delivered: list[int]
    events_in_mysql: list[int]
    events_in_dynamodb: list[int]
    left_in_outbox: int


# Worker A has read the customer and holds its write; a mutation commits; worker B reads
# the newer state and holds its write. The two writes (and any a worker sends after
# re-reading MySQL's versions) then land in every order there is.
LANDING_ORDERS = list(itertools.permutations(["A", "B"]))


@pytest.mark.parametrize("order", LANDING_ORDERS, ids=["-then-".join(o) for o in LANDING_ORDERS])
def test_two_workers_end_with_the_newest_state_and_every_event_once(
    seeded_mariadb: MariaDBServer, moto: MotoServer, order: tuple[str, str]
) -> None:
    async def scenario() -> _Outcome:
        async with _stores(seeded_mariadb, moto) as stores:
            writes = _HeldWrites(stores.client)
            # Two workers of one relay: they share its turns at MySQL.
            relay = OutboxRelay(
                pool=stores.pool, client=cast("DynamoDBClient", writes), table=stores.table
            )
            await _change_city(stores.pool, "First")
            first = await stores.mysql_state()
            worker_a = asyncio.create_task(relay.drain_once())
            assert await writes.held(1) == [str(first.version)]
            await _change_city(stores.pool, "Second")
            second = await stores.mysql_state()
            worker_b = asyncio.create_task(relay.drain_once())
            assert await writes.held(2) == [str(first.version), str(second.version)]
            for worker in order:
                writes.release("AB".index(worker))
                # A worker whose write landed before the newer state re-reads MySQL and
                # writes again: every write after the two held ones goes through.
                writes.open = True
                await (worker_a if worker == "A" else worker_b)
                writes.open = False
            in_mysql, in_dynamodb = await _events(stores)
            return _Outcome(
                stored=await stores.dynamodb_state(),
                newest=str(second.version),
                delivered=[worker_a.result(), worker_b.result()],
                events_in_mysql=in_mysql,
                events_in_dynamodb=in_dynamodb,
                left_in_outbox=await _outbox_rows(stores),
            )

    outcome = asyncio.run(scenario())
    assert outcome.stored == (outcome.newest, "Second")
    assert outcome.delivered == [1, 1]
    assert outcome.left_in_outbox == 0
    # The table was empty: the relay copied the events of the changes it delivered, the
    # two cities', each once.
    assert outcome.events_in_dynamodb == outcome.events_in_mysql[-2:]
