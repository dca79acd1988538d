"""The feed's reads: MySQL's SQL held to the in-memory store's Python over generated
pages, and the sequencer that puts ids committed out of order back in order.

The demo rows, plus customers whose history began before the audit trail (no
CREATED event, a move later or none at all) and one with more updates than a
rep's page looks at, are in both stores; every generated page (filter, cursor,
bound, size) must come back the same from each, and so must the poll's read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.env import mysql_env
from devstack.mariadb import MariaDBServer
from graphql_api.feed.sequencer import EventSequencer
from graphql_api.resources import close_mysql_pool, open_mysql_pool
from graphql_api.settings import load_settings
from graphql_api.stores.demo import demo_data
from graphql_api.stores.event_feed import REP_PAGE_SCAN
from graphql_api.stores.memory import MemoryStore
from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.mysql_feed import MySQLEventFeed
from graphql_api.stores.mysql_tables import CUSTOMERS, EVENTS, placeholders
from graphql_api.stores.records import (
    CustomerChange,
    CustomerEventKind,
    CustomerEventRecord,
    CustomerRecord,
    CustomerStatus,
    DataSource,
    EventFilter,
    FeedEvent,
    FeedPage,
    SalesRepMove,
)
from tests.utils.mariadb import reseed

AT = datetime(2025, 3, 1, tzinfo=UTC)


def _customer(id: str, rep: str | None) -> CustomerRecord:
    return CustomerRecord(
        id=id,
        name=f"Legacy {id}",
        contact_person=None,
        email=None,
        phone=None,
        address=None,
        city=None,
        state=None,
        zip_code=None,
        country=None,
        status=CustomerStatus.ACTIVE,
        sales_rep_id=rep,
        version=1,
        created_at=AT,
        updated_at=AT,
        source=DataSource.MYSQL,
    )


def _event(
    id: int, customer: str, kind: CustomerEventKind, **moved: str | None
) -> CustomerEventRecord:
    return CustomerEventRecord(
        id=id,
        customer_id=customer,
        kind=kind,
        at=AT + timedelta(seconds=id),
        actor="legacy",
        from_sales_rep_id=moved.get("source"),
        to_sales_rep_id=moved.get("to"),
        from_status=None,
        to_status=None,
        note=None,
    )


def _legacy(first_id: int) -> tuple[list[CustomerRecord], list[CustomerEventRecord]]:
    """Histories older than the audit trail, and one longer than a rep's page scan."""
    updated, assigned, unassigned = (
        CustomerEventKind.UPDATED,
        CustomerEventKind.ASSIGNED,
        CustomerEventKind.UNASSIGNED,
    )
    customers = [
        _customer("L-1", "SR-001"),  # no move at all: its rep now
        _customer("L-2", "SR-002"),  # moved later: the rep it moved from
        _customer("L-3", None),  # unassigned later
        _customer("L-4", "SR-003"),  # many updates
    ]
    n = first_id
    events = [
        _event(n, "L-1", updated),
        _event(n + 1, "L-2", updated),
        _event(n + 2, "L-3", updated),
        _event(n + 3, "L-2", assigned, source="SR-001", to="SR-002"),
        _event(n + 4, "L-2", updated),
        _event(n + 5, "L-3", unassigned, source="SR-004"),
        _event(n + 6, "L-1", updated),
    ]
    n += len(events)
    events += [_event(n + i, "L-4", updated) for i in range(REP_PAGE_SCAN + 300)]
    return customers, events


@dataclass
class Feeds:
    memory: MemoryStore
    mysql: MySQLEventFeed
    # The MySQL store under the feed, which takes the writes.
    writer: MySQLStore
    loop: asyncio.AbstractEventLoop
    newest: int

    def both(self, read: Any) -> tuple[Any, Any]:
        return (
            self.loop.run_until_complete(read(self.memory)),
            self.loop.run_until_complete(read(self.mysql)),
        )


def _load_mysql(
    server: MariaDBServer, customers: list[CustomerRecord], events: list[CustomerEventRecord]
) -> None:
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            rows = (
                (CUSTOMERS, [CUSTOMERS.to_row(customer) for customer in customers]),
                (EVENTS, [EVENTS.to_row(event) for event in events]),
            )
            for table, values in rows:
                cursor.executemany(
                    f"INSERT INTO {table.name} ({table.column_list})"
                    f" VALUES ({placeholders(len(table.columns))})",
                    values,
                )
    finally:
        connection.close()


@pytest.fixture(scope="module")
def feeds(mariadb: MariaDBServer) -> Iterator[Feeds]:
    reseed(mariadb)
    demo = demo_data()
    customers, events = _legacy(first_id=max(event.id for event in demo.events) + 1)
    _load_mysql(mariadb, customers, events)
    memory = MemoryStore(
        sales_reps=demo.sales_reps,
        customers=[*demo.customers, *customers],
        events=[*demo.events, *events],
    )
    settings = load_settings(mysql_env(mariadb))
    assert settings.mysql is not None
    loop = asyncio.new_event_loop()
    pool = loop.run_until_complete(open_mysql_pool(settings.mysql))
    try:
        store = MySQLStore(pool, timeout_s=30, pool_wait_s=30)
        yield Feeds(memory, MySQLEventFeed(store), store, loop, newest=events[-1].id)
    finally:
        loop.run_until_complete(close_mysql_pool(pool))
        loop.close()


def _same(page: FeedPage) -> tuple[Any, ...]:
    # Times are equal to the microsecond; only the record's `at` type may differ.
    return (
        [(e.event, e.sales_rep_id) for e in page.events],
        page.end,
        page.has_next_page,
    )


_FILTERS = st.sampled_from(
    [
        EventFilter(),
        EventFilter(customer_id="C-00001"),
        EventFilter(customer_id="L-2"),
        EventFilter(customer_id="C-99999"),
        EventFilter(sales_rep_id="SR-001"),
        EventFilter(sales_rep_id="SR-002"),
        EventFilter(sales_rep_id="SR-003"),
        EventFilter(sales_rep_id="SR-004"),
        EventFilter(customer_id="L-2", sales_rep_id="SR-001"),
    ]
)


def test_both_stores_page_the_feed_alike(feeds: Feeds) -> None:
    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        where=_FILTERS,
        after=st.integers(0, feeds.newest + 3),
        span=st.integers(0, feeds.newest),
        first=st.sampled_from([0, 1, 3, 50, 500]),
    )
    def check(where: EventFilter, after: int, span: int, first: int) -> None:
        until = min(after + span, feeds.newest + 3)
        memory, mysql = feeds.both(
            lambda feed: feed.feed_page(where=where, after=after, until=until, first=first)
        )
        assert _same(memory) == _same(mysql), (where, after, until, first)

    check()


def test_a_reps_page_looks_at_a_bounded_span(feeds: Feeds) -> None:
    start = feeds.newest - REP_PAGE_SCAN - 200
    memory, mysql = feeds.both(
        lambda feed: feed.feed_page(
            where=EventFilter(sales_rep_id="SR-002"), after=start, until=feeds.newest, first=10
        )
    )
    assert _same(memory) == _same(mysql)
    assert (mysql.events, mysql.end, mysql.has_next_page) == ([], start + REP_PAGE_SCAN, True)


def test_the_poll_reads_the_same_events_and_reps(feeds: Feeds) -> None:
    for after in (0, 1, 1000, feeds.newest - REP_PAGE_SCAN - 320, feeds.newest):
        memory, mysql = feeds.both(
            lambda feed, after=after: feed.events_after(after=after, limit=400)
        )
        assert [(e.event, e.sales_rep_id) for e in memory] == [
            (e.event, e.sales_rep_id) for e in mysql
        ]
    first_legacy = feeds.newest - REP_PAGE_SCAN - 306
    legacy = feeds.loop.run_until_complete(
        feeds.mysql.events_after(after=first_legacy - 1, limit=7)
    )
    assert [(e.event.customer_id, e.sales_rep_id) for e in legacy] == [
        ("L-1", "SR-001"),
        ("L-2", "SR-001"),
        ("L-3", "SR-004"),
        ("L-2", "SR-002"),
        ("L-2", "SR-002"),
        ("L-3", None),
        ("L-1", "SR-001"),
    ]


def test_both_stores_agree_after_the_same_writes(feeds: Feeds) -> None:
    """Writes through each store's own writer number events alike and give them
    the same reps, a status and a move in one change included."""

    async def write(store: Any) -> None:
        await store.assign_customer(change=CustomerChange("C-00003", "t"), sales_rep_id="SR-005")
        await store.update_customer_status(
            change=CustomerChange("C-00004", "t"),
            status=CustomerStatus.CHURNED,
            sales_rep=SalesRepMove("SR-006"),
        )
        await store.unassign_customer(change=CustomerChange("C-00005", "t"))

    feeds.loop.run_until_complete(write(feeds.memory))
    feeds.loop.run_until_complete(write(feeds.writer))
    memory, mysql = feeds.both(lambda feed: feed.events_after(after=feeds.newest, limit=10))

    def without_time(events: list[FeedEvent]) -> list[Any]:
        return [(replace(e.event, at=AT), e.sales_rep_id) for e in events]

    assert without_time(memory) == without_time(mysql)
    # The status change comes before the move in that change: C-00004 was SR-017's.
    assert [(e.event.kind.value, e.sales_rep_id) for e in mysql] == [
        ("ASSIGNED", "SR-005"),
        ("STATUS_CHANGED", "SR-017"),
        ("ASSIGNED", "SR-006"),
        ("UNASSIGNED", None),
    ]


def _feed_event(id: int) -> FeedEvent:
    return FeedEvent(event=_event(id, "C-00001", CustomerEventKind.UPDATED), sales_rep_id=None)


def test_the_sequencer_holds_events_behind_a_missing_id_until_it_comes_or_times_out() -> None:
    now = [0.0]
    # The events were written just now (AT + their id in seconds).
    sequencer = EventSequencer(
        gap_timeout_s=10, clock=lambda: now[0], wall_clock=lambda: AT.timestamp() + 16 + now[0]
    )
    # 11 missing: 10 goes, 12 and 13 wait.
    released = sequencer.release(9, [_feed_event(10), _feed_event(12), _feed_event(13)])
    assert ([e.id for e in released.events], released.position) == ([10], 10)
    # 11 comes (committed late): all three go, in id order.
    now[0] = 3.0
    released = sequencer.release(10, [_feed_event(i) for i in (11, 12, 13)])
    assert ([e.id for e in released.events], released.position, released.given_up) == (
        [11, 12, 13],
        13,
        0,
    )
    # 14 and 15 missing; 15 fills in, 14 never comes: given up after the timeout,
    # counted from when 14 was first seen missing.
    released = sequencer.release(13, [_feed_event(16)])
    assert released.events == []
    now[0] = 9.0
    assert sequencer.release(13, [_feed_event(15), _feed_event(16)]).events == []
    now[0] = 13.0
    released = sequencer.release(13, [_feed_event(15), _feed_event(16)])
    assert ([e.id for e in released.events], released.position, released.given_up) == (
        [15, 16],
        16,
        1,
    )


def test_the_sequencer_gives_up_at_once_on_an_id_missing_since_long_before() -> None:
    """A poller catching up (it was idle or paused) does not wait again on an id
    that went missing well over two gap timeouts before the event after it."""
    sequencer = EventSequencer(
        gap_timeout_s=10, clock=lambda: 0.0, wall_clock=lambda: AT.timestamp() + 60
    )
    released = sequencer.release(9, [_feed_event(10), _feed_event(12), _feed_event(13)])
    assert ([e.id for e in released.events], released.given_up) == ([10, 12, 13], 1)
    recent = EventSequencer(
        gap_timeout_s=10, clock=lambda: 0.0, wall_clock=lambda: AT.timestamp() + 25
    )
    assert [e.id for e in recent.release(9, [_feed_event(10), _feed_event(12)]).events] == [10]
