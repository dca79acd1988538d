"""A storm of mutations for the migration bench: each one made by the MySQL store, as the
API makes it (the customer's row, its event and an outbox row in one transaction), with
no relay running, so the whole storm waits in the outbox for the relay under test."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import replace

from graphql_api.resources import mysql_pool
from graphql_api.settings import MySQLSettings
from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.records import CustomerChange

_SEED = 20251202


async def _storm(
    settings: MySQLSettings,
    *,
    customer_ids: Sequence[str],
    mutations: int,
    concurrency: int,
    seed: int,
) -> None:
    rng = random.Random(seed)
    plan = iter(enumerate(rng.choice(customer_ids) for _ in range(mutations)))
    async with mysql_pool(replace(settings, pool_size=concurrency)) as pool:
        store = MySQLStore(pool, timeout_s=30.0, pool_wait_s=30.0, outbox=True)

        async def mutate() -> None:
            for number, customer_id in plan:
                # A city no earlier storm of this seed set: every change is a real one.
                city = f"Storm {seed}-{number}"
                change = CustomerChange(
                    customer_id=customer_id, actor="bench-storm", fields={"city": city}
                )
                await store.update_customer(change=change)

        await asyncio.gather(*(mutate() for _ in range(concurrency)))


def storm(
    settings: MySQLSettings,
    *,
    customer_ids: Sequence[str],
    mutations: int,
    concurrency: int = 8,
    seed: int = _SEED,
) -> None:
    """`mutations` city changes on customers drawn (with repeats) from `customer_ids`."""
    asyncio.run(
        _storm(
            settings,
            customer_ids=customer_ids,
            mutations=mutations,
            concurrency=concurrency,
            seed=seed,
        )
    )
