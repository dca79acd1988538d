"""The relay never leaves a customer older in DynamoDB than in MySQL, though its
BatchWriteItem calls carry no condition: against MariaDB and moto as real processes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asyncmy.pool import Pool

from devstack.env import dynamodb_env, mysql_env
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from graphql_api.admin import dynamodb_table
from graphql_api.resources import dynamodb_client, mysql_pool
from graphql_api.settings import load_settings
from graphql_api.stores import dynamodb_items as items
from graphql_api.stores.dynamodb_batch import put_items
from graphql_api.stores.mysql_tables import CUSTOMERS
from graphql_api.stores.records import CustomerRecord
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
