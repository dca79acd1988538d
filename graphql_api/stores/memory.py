"""The in-memory store: demos, tests and student mode. Never a silent fallback.

It behaves like the MySQL store for every read and write (same order, pages,
versions, events and errors); the behavioural tests run against both.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

from graphql_api.errors import AlreadyExistsError
from graphql_api.stores import changes, records
from graphql_api.stores.event_feed import page_of, reps_as_of
from graphql_api.stores.protocol import customers_then_reps

_T = TypeVar("_T", records.CustomerRecord, records.SalesRepRecord)


def _page(items: Iterable[_T], page: records.PageRequest) -> records.Page[_T]:
    ordered = sorted(items, key=lambda item: item.id)
    after = [item for item in ordered if page.after is None or item.id > page.after]
    return records.Page(
        items=after[: page.first],
        has_next_page=len(after) > page.first,
        total_count=len(ordered),
        has_previous_page=page.after is not None,
    )


def _matches(customer: records.CustomerRecord, where: records.CustomerFilter) -> bool:
    checks = (
        where.status is None or customer.status is where.status,
        where.sales_rep_id is None or customer.sales_rep_id == where.sales_rep_id,
        where.unassigned is None or (customer.sales_rep_id is None) == where.unassigned,
        where.country is None or customer.country == where.country,
        where.state is None or customer.state == where.state,
        where.city is None or customer.city == where.city,
        where.name_contains is None or where.name_contains.lower() in customer.name.lower(),
    )
    return all(checks)


class MemoryStore:
    def __init__(
        self,
        *,
        sales_reps: Iterable[records.SalesRepRecord] = (),
        customers: Iterable[records.CustomerRecord] = (),
        events: Iterable[records.CustomerEventRecord] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        memory = records.DataSource.MEMORY
        self._reps = {rep.id: replace(rep, source=memory) for rep in sales_reps}
        self._customers = {row.id: replace(row, source=memory) for row in customers}
        self._events: dict[str, list[records.CustomerEventRecord]] = {}
        # Every event in id order: the feed (ids only grow here).
        self._log = sorted(events, key=_event_id)
        for event in self._log:
            self._events.setdefault(event.customer_id, []).append(event)
        self._last_event_id = self._log[-1].id if self._log else 0
        self._clock = clock
        # One writer at a time, like the row lock MySQL takes.
        self._write_lock = asyncio.Lock()

    @property
    def source(self) -> records.DataSource:
        return records.DataSource.MEMORY

    async def ping(self) -> None:
        return

    async def customers_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, records.CustomerRecord]:
        return {id: self._customers[id] for id in ids if id in self._customers}

    async def sales_reps_by_ids(
        self, *, ids: Sequence[str]
    ) -> Mapping[str, records.SalesRepRecord]:
        return {id: self._reps[id] for id in ids if id in self._reps}

    async def customers_and_reps_by_ids(self, *, ids: Sequence[str]) -> records.CustomersAndReps:
        return await customers_then_reps(self, ids)

    async def customers_by_sales_reps(
        self, *, keys: Sequence[records.RepCustomersKey]
    ) -> list[records.Page[records.CustomerRecord]]:
        return [
            _page(
                (
                    customer
                    for customer in self._customers.values()
                    if customer.sales_rep_id == key.sales_rep_id
                    and (key.status is None or customer.status is key.status)
                ),
                key.page,
            )
            for key in keys
        ]

    async def events_by_customers(
        self, *, customer_ids: Sequence[str], first: int, details: bool = True
    ) -> Mapping[str, list[records.CustomerEventRecord]]:
        # The records are in hand: with their details or without costs the same.
        return {
            id: list(reversed(self._events.get(id, [])))[:first]
            for id in customer_ids
            if id in self._events
        }

    async def customers_page(
        self, *, where: records.CustomerFilter, page: records.PageRequest
    ) -> records.Page[records.CustomerRecord]:
        return _page((row for row in self._customers.values() if _matches(row, where)), page)

    async def sales_reps_page(
        self, *, page: records.PageRequest
    ) -> records.Page[records.SalesRepRecord]:
        return _page(self._reps.values(), page)

    # -- the feed (protocol.EventFeedReader) ------------------------------------

    async def newest_event_id(self) -> int:
        return self._last_event_id

    async def events_after(self, *, after: int, limit: int) -> list[records.FeedEvent]:
        start = bisect_right(self._log, after, key=_event_id)
        return self._feed_events(self._log[start : start + limit])

    async def feed_page(
        self, *, where: records.EventFilter, after: int, until: int, first: int
    ) -> records.FeedPage:
        start = bisect_right(self._log, after, key=_event_id)
        stop = bisect_right(self._log, until, key=_event_id)
        events = self._feed_events(self._log[start:stop])
        return page_of(events, where=where, after=after, until=until, first=first)

    def _feed_events(
        self, events: Sequence[records.CustomerEventRecord]
    ) -> list[records.FeedEvent]:
        reps: dict[str, dict[int, str | None]] = {}
        for customer_id in {event.customer_id for event in events}:
            history = self._events[customer_id]
            current = self._customers[customer_id].sales_rep_id
            ids = (event.id for event in history)
            reps[customer_id] = dict(zip(ids, reps_as_of(history, current), strict=True))
        return [
            records.FeedEvent(event=event, sales_rep_id=reps[event.customer_id][event.id])
            for event in events
        ]

    # -- writes ----------------------------------------------------------------

    async def assign_customer(
        self, *, change: records.CustomerChange, sales_rep_id: str
    ) -> records.Assignment:
        async with self._write_lock:
            customer = self._locked_customer(change)
            rep = changes.check_assignable(self._reps.get(sales_rep_id), sales_rep_id)
            assigned = self._apply(customer, change, changes.plan_assign(customer, rep))
            return records.Assignment(customer=assigned, sales_rep=rep)

    async def unassign_customer(self, *, change: records.CustomerChange) -> records.CustomerRecord:
        async with self._write_lock:
            customer = self._locked_customer(change)
            return self._apply(customer, change, changes.plan_unassign(customer))

    async def update_customer_status(
        self,
        *,
        change: records.CustomerChange,
        status: records.CustomerStatus,
        sales_rep: records.SalesRepMove | None = None,
    ) -> records.CustomerRecord:
        async with self._write_lock:
            customer = self._locked_customer(change)
            moved = None
            if sales_rep is not None:
                rep_id = sales_rep.sales_rep_id
                rep = None
                if rep_id is not None:
                    rep = changes.check_assignable(self._reps.get(rep_id), rep_id)
                moved = changes.plan_move(customer, rep)
            plan = changes.combined(changes.plan_status(customer, status), moved)
            return self._apply(customer, change, plan)

    async def update_customer(self, *, change: records.CustomerChange) -> records.CustomerRecord:
        async with self._write_lock:
            customer = self._locked_customer(change)
            return self._apply(customer, change, changes.plan_update(customer, change.fields))

    async def create_customer(
        self, *, customer: records.NewCustomer, actor: str | None
    ) -> records.CustomerRecord:
        async with self._write_lock:
            if customer.id in self._customers:
                raise AlreadyExistsError("customer", customer.id)
            if customer.sales_rep_id is not None:
                changes.check_assignable(
                    self._reps.get(customer.sales_rep_id), customer.sales_rep_id
                )
            at = self._clock()
            record = changes.new_record(customer, at=at, source=records.DataSource.MEMORY)
            self._last_event_id += 1
            event = changes.created_event(
                customer, actor=actor, event_id=self._last_event_id, at=at
            )
            self._customers[record.id] = record
            self._events[record.id] = [event]
            self._log.append(event)
            return record

    def _locked_customer(self, change: records.CustomerChange) -> records.CustomerRecord:
        customer = changes.check_found(self._customers.get(change.customer_id), change.customer_id)
        changes.check_version(customer, change.expected_version)
        return customer

    def _apply(
        self,
        customer: records.CustomerRecord,
        change: records.CustomerChange,
        plan: changes.PlannedChange | None,
    ) -> records.CustomerRecord:
        if plan is None:
            return customer
        at = self._clock()
        updated = changes.apply_change(customer, plan, at=at)
        events = changes.events_for(plan, change, first_event_id=self._last_event_id + 1, at=at)
        self._last_event_id += len(events)
        self._customers[updated.id] = updated
        self._events.setdefault(updated.id, []).extend(events)
        self._log.extend(events)
        return updated


def _event_id(event: records.CustomerEventRecord) -> int:
    return event.id
