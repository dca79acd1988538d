"""The store protocols implemented once, by naming each call and handing it on.

The fallback chain (retries, breakers, fallback) and the observed wrapper
(timing, metrics) act the same way on every call. Each is a router with one
generic `read` and, for writers, `write`; RoutedReader and RoutedWriter turn a
router into a typed StoreReader or StoreWriter. The operation names passed on
are the method names, which the metrics use as their `call` label.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from graphql_api.stores import records
from graphql_api.stores.protocol import StoreReader, StoreWriter

T = TypeVar("T")


class ReadRouter(Protocol):
    @property
    def source(self) -> records.DataSource: ...

    async def ping(self) -> None: ...

    async def read(self, operation: str, call: Callable[[StoreReader], Awaitable[T]]) -> T: ...


class WriteRouter(ReadRouter, Protocol):
    async def write(self, operation: str, call: Callable[[StoreWriter], Awaitable[T]]) -> T: ...


class RoutedReader:
    """A StoreReader whose every read goes through `router.read`."""

    def __init__(self, router: ReadRouter) -> None:
        self._router = router

    @property
    def source(self) -> records.DataSource:
        return self._router.source

    async def ping(self) -> None:
        await self._router.ping()

    async def customers_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, records.CustomerRecord]:
        return await self._router.read(
            "customers_by_ids", lambda store: store.customers_by_ids(ids=ids)
        )

    async def sales_reps_by_ids(
        self, *, ids: Sequence[str]
    ) -> Mapping[str, records.SalesRepRecord]:
        return await self._router.read(
            "sales_reps_by_ids", lambda store: store.sales_reps_by_ids(ids=ids)
        )

    async def customers_and_reps_by_ids(self, *, ids: Sequence[str]) -> records.CustomersAndReps:
        return await self._router.read(
            "customers_and_reps_by_ids", lambda store: store.customers_and_reps_by_ids(ids=ids)
        )

    async def customers_by_sales_reps(
        self, *, keys: Sequence[records.RepCustomersKey]
    ) -> list[records.Page[records.CustomerRecord]]:
        return await self._router.read(
            "customers_by_sales_reps", lambda store: store.customers_by_sales_reps(keys=keys)
        )

    async def events_by_customers(
        self, *, customer_ids: Sequence[str], first: int, details: bool = True
    ) -> Mapping[str, list[records.CustomerEventRecord]]:
        return await self._router.read(
            "events_by_customers",
            lambda store: store.events_by_customers(
                customer_ids=customer_ids, first=first, details=details
            ),
        )

    async def customers_page(
        self, *, where: records.CustomerFilter, page: records.PageRequest
    ) -> records.Page[records.CustomerRecord]:
        return await self._router.read(
            "customers_page", lambda store: store.customers_page(where=where, page=page)
        )

    async def sales_reps_page(
        self, *, page: records.PageRequest
    ) -> records.Page[records.SalesRepRecord]:
        return await self._router.read(
            "sales_reps_page", lambda store: store.sales_reps_page(page=page)
        )


class RoutedWriter(RoutedReader):
    """A StoreWriter: reads through `router.read`, writes through `router.write`."""

    def __init__(self, router: WriteRouter) -> None:
        super().__init__(router)
        self._writes = router

    async def assign_customer(
        self, *, change: records.CustomerChange, sales_rep_id: str
    ) -> records.Assignment:
        return await self._writes.write(
            "assign_customer",
            lambda store: store.assign_customer(change=change, sales_rep_id=sales_rep_id),
        )

    async def unassign_customer(self, *, change: records.CustomerChange) -> records.CustomerRecord:
        return await self._writes.write(
            "unassign_customer", lambda store: store.unassign_customer(change=change)
        )

    async def update_customer_status(
        self,
        *,
        change: records.CustomerChange,
        status: records.CustomerStatus,
        sales_rep: records.SalesRepMove | None = None,
    ) -> records.CustomerRecord:
        return await self._writes.write(
            "update_customer_status",
            lambda store: store.update_customer_status(
                change=change, status=status, sales_rep=sales_rep
            ),
        )

    async def update_customer(self, *, change: records.CustomerChange) -> records.CustomerRecord:
        return await self._writes.write(
            "update_customer", lambda store: store.update_customer(change=change)
        )

    async def create_customer(
        self, *, customer: records.NewCustomer, actor: str | None
    ) -> records.CustomerRecord:
        return await self._writes.write(
            "create_customer",
            lambda store: store.create_customer(customer=customer, actor=actor),
        )
