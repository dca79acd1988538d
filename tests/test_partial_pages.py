"""Pages read for a few fields (RepCustomersKey.fields, the fast path's look-ahead).

The MySQL store reads only the leading columns that hold those fields, so the
page's records are partial: the fields asked for equal the whole records',
the others are None, and no by-id load of the same request may be answered
with one of them (the reference execution reuses a request's loaders when the
fast path hands a request on).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.env import mysql_env
from devstack.mariadb import MariaDBServer
from graphql_api.loaders import Loaders
from graphql_api.resources import close_mysql_pool, open_mysql_pool
from graphql_api.settings import load_settings
from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.records import CustomerRecord, PageRequest, RepCustomersKey
from tests.utils.mariadb import reseed

_REP = "SR-001"
_PAGE = PageRequest(first=5)


@pytest.fixture(scope="module")
def store(mariadb: MariaDBServer) -> Iterator[tuple[MySQLStore, asyncio.AbstractEventLoop]]:
    reseed(mariadb)
    settings = load_settings(mysql_env(mariadb))
    assert settings.mysql is not None
    loop = asyncio.new_event_loop()
    pool = loop.run_until_complete(open_mysql_pool(settings.mysql))
    try:
        yield MySQLStore(pool, timeout_s=30, pool_wait_s=30), loop
    finally:
        loop.run_until_complete(close_mysql_pool(pool))
        loop.close()


def _fields(record: CustomerRecord) -> dict[str, Any]:
    return {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}


@pytest.mark.parametrize(
    "asked",
    [
        frozenset({"name"}),
        frozenset({"email", "country"}),
        frozenset({"sales_rep_id", "source"}),
        frozenset({"status"}),
        frozenset({"updated_at"}),
        frozenset(),
    ],
)
def test_a_partial_page_holds_what_was_asked(
    store: tuple[MySQLStore, asyncio.AbstractEventLoop], asked: frozenset[str]
) -> None:
    mysql, loop = store
    whole, partial = loop.run_until_complete(
        mysql.customers_by_sales_reps(
            keys=[RepCustomersKey(_REP, _PAGE), RepCustomersKey(_REP, _PAGE, fields=asked)]
        )
    )
    assert len(whole.items) == len(partial.items) == 5
    assert (whole.has_next_page, whole.total_count) == (partial.has_next_page, partial.total_count)
    for full, part in zip(whole.items, partial.items, strict=True):
        for name, value in _fields(part).items():
            if name in asked or name in ("id", "source"):
                assert value == getattr(full, name), name
    # Fewer columns were read: a field not asked for, late in the row, is None.
    if "updated_at" not in asked:
        assert all(part.updated_at is None for part in partial.items)


def test_a_partial_page_answers_no_by_id_load(
    store: tuple[MySQLStore, asyncio.AbstractEventLoop],
) -> None:
    mysql, loop = store

    async def page_then_by_id() -> tuple[CustomerRecord, CustomerRecord | None]:
        loaders = Loaders(mysql)
        key = RepCustomersKey(_REP, _PAGE, fields=frozenset({"name"}))
        page = await loaders.customers_by_sales_rep.load(key)
        first = page.items[0]
        return first, await loaders.customer_by_id.load(first.id)

    partial, by_id = loop.run_until_complete(page_then_by_id())
    assert partial.created_at is None
    assert by_id is not None
    assert (by_id.id, by_id.name) == (partial.id, partial.name)
    assert by_id.created_at is not None
    assert by_id.status is not None


def test_a_whole_page_still_primes_by_id_loads(
    store: tuple[MySQLStore, asyncio.AbstractEventLoop],
) -> None:
    mysql, loop = store

    async def page_then_by_id() -> tuple[CustomerRecord, CustomerRecord | None]:
        loaders = Loaders(mysql)
        page = await loaders.customers_by_sales_rep.load(RepCustomersKey(_REP, _PAGE))
        return page.items[0], await loaders.customer_by_id.load(page.items[0].id)

    first, by_id = loop.run_until_complete(page_then_by_id())
    assert by_id is first  # the page's own record: no second read
