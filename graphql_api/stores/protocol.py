"""What stores offer, one protocol per role: the loaders read, the mutations write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from graphql_api.stores.records import (
    CustomerChange,
    CustomerEventRecord,
    CustomerFilter,
    CustomerRecord,
    CustomerStatus,
    DataSource,
    NewCustomer,
    Page,
    PageRequest,
    RepCustomersKey,
    SalesRepRecord,
)


class StoreReader(Protocol):
    """Batched reads, one round trip per call.

    Reads return records in the order of their keys; a missing key is absent
    from the mapping.
    """

    @property
    def source(self) -> DataSource: ...

    async def ping(self) -> None: ...

    async def customers_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, CustomerRecord]: ...

    async def sales_reps_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, SalesRepRecord]: ...

    async def customers_by_sales_reps(
        self, *, keys: Sequence[RepCustomersKey]
    ) -> list[Page[CustomerRecord]]: ...

    async def events_by_customers(
        self, *, customer_ids: Sequence[str], first: int
    ) -> Mapping[str, list[CustomerEventRecord]]: ...

    async def customers_page(
        self, *, where: CustomerFilter, page: PageRequest
    ) -> Page[CustomerRecord]: ...

    async def sales_reps_page(self, *, page: PageRequest) -> Page[SalesRepRecord]: ...


class StoreWriter(StoreReader, Protocol):
    """Transactional writes; a store that writes also reads.

    Writes raise the errors in graphql_api.errors for expected failures and
    change nothing when they do.
    """

    async def assign_customer(
        self, *, change: CustomerChange, sales_rep_id: str
    ) -> CustomerRecord: ...

    async def unassign_customer(self, *, change: CustomerChange) -> CustomerRecord: ...

    async def update_customer_status(
        self, *, change: CustomerChange, status: CustomerStatus
    ) -> CustomerRecord: ...

    async def update_customer(self, *, change: CustomerChange) -> CustomerRecord: ...

    async def create_customer(
        self, *, customer: NewCustomer, actor: str | None
    ) -> CustomerRecord: ...
