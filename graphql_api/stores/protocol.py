"""What stores offer, one protocol per role: the loaders read, the mutations write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from graphql_api.stores import records


class StoreReader(Protocol):
    """Batched reads, one round trip per call.

    Reads return records in the order of their keys; a missing key is absent
    from the mapping.
    """

    @property
    def source(self) -> records.DataSource: ...

    async def ping(self) -> None: ...

    async def customers_by_ids(
        self, *, ids: Sequence[str]
    ) -> Mapping[str, records.CustomerRecord]: ...

    async def sales_reps_by_ids(
        self, *, ids: Sequence[str]
    ) -> Mapping[str, records.SalesRepRecord]: ...

    async def customers_and_reps_by_ids(self, *, ids: Sequence[str]) -> records.CustomersAndReps:
        """The customers and the reps assigned to them, in one read where the
        store can join them (a query that selects `customer { salesRep }`)."""
        ...

    async def customers_by_sales_reps(
        self, *, keys: Sequence[records.RepCustomersKey]
    ) -> list[records.Page[records.CustomerRecord]]: ...

    async def events_by_customers(
        self, *, customer_ids: Sequence[str], first: int, details: bool = True
    ) -> Mapping[str, list[records.CustomerEventRecord]]:
        """Each customer's newest `first` events. `details` False: a store may
        leave each event's details out (actor, the reps and statuses it moved
        between, note: None), for a reader that shows only what and when."""
        ...

    async def customers_page(
        self, *, where: records.CustomerFilter, page: records.PageRequest
    ) -> records.Page[records.CustomerRecord]: ...

    async def sales_reps_page(
        self, *, page: records.PageRequest
    ) -> records.Page[records.SalesRepRecord]: ...


class StoreWriter(StoreReader, Protocol):
    """Transactional writes; a store that writes also reads.

    Writes raise the errors in graphql_api.errors for expected failures and
    change nothing when they do.
    """

    async def assign_customer(
        self, *, change: records.CustomerChange, sales_rep_id: str
    ) -> records.Assignment: ...

    async def unassign_customer(
        self, *, change: records.CustomerChange
    ) -> records.CustomerRecord: ...

    async def update_customer_status(
        self,
        *,
        change: records.CustomerChange,
        status: records.CustomerStatus,
        sales_rep: records.SalesRepMove | None = None,
    ) -> records.CustomerRecord:
        """The status, and the rep when `sales_rep` is given, in one change."""
        ...

    async def update_customer(
        self, *, change: records.CustomerChange
    ) -> records.CustomerRecord: ...

    async def create_customer(
        self, *, customer: records.NewCustomer, actor: str | None
    ) -> records.CustomerRecord: ...


class EventFeedReader(Protocol):
    """The audit trail in event order, for the live feed and the events query.

    Only a store that takes the writes has it (MySQL, the in-memory store):
    DynamoDB keeps each customer's events in that customer's partition, with
    no order across customers to read them in.
    """

    @property
    def source(self) -> records.DataSource: ...

    async def newest_event_id(self) -> int:
        """The id of the newest event; 0 when there is none."""
        ...

    async def events_after(self, *, after: int, limit: int) -> list[records.FeedEvent]:
        """Every event with an id above `after`, in id order, at most `limit`."""
        ...

    async def feed_page(
        self, *, where: records.EventFilter, after: int, until: int, first: int
    ) -> records.FeedPage:
        """The events `where` holds after the position `after` up to `until`, at
        most `first` (stores/event_feed.py: a rep's page looks at REP_PAGE_SCAN
        positions at most)."""
        ...


async def customers_then_reps(store: StoreReader, ids: Sequence[str]) -> records.CustomersAndReps:
    """customers_and_reps_by_ids for a store that cannot join: two reads."""
    customers = await store.customers_by_ids(ids=ids)
    rep_ids = list(
        dict.fromkeys(c.sales_rep_id for c in customers.values() if c.sales_rep_id is not None)
    )
    reps = await store.sales_reps_by_ids(ids=rep_ids) if rep_ids else {}
    return records.CustomersAndReps(customers=customers, sales_reps=reps)
