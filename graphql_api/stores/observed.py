"""A store wrapped so every call is timed and reported to a StoreObserver.

Expected outcomes (not found, version conflict, ...) are answers, not
failures; a StoreFailedError counts with its reason, anything else as
"error". The exception itself always propagates unchanged.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from graphql_api.errors import GraphqlApiError, StoreFailedError
from graphql_api.stores.observer import StoreObserver
from graphql_api.stores.protocol import Store
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


class ObservedStore:
    def __init__(self, store: Store, *, observer: StoreObserver, name: str) -> None:
        self._store = store
        self._observer = observer
        self._name = name

    @property
    def source(self) -> DataSource:
        return self._store.source

    @asynccontextmanager
    async def _call(self, call: str) -> AsyncIterator[None]:
        started = time.perf_counter()
        failure: str | None = None
        try:
            yield
        except StoreFailedError as error:
            failure = error.reason
            raise
        except GraphqlApiError:
            raise
        except Exception:
            failure = "error"
            raise
        finally:
            seconds = time.perf_counter() - started
            self._observer.store_call(store=self._name, call=call, seconds=seconds, failure=failure)

    async def ping(self) -> None:
        async with self._call("ping"):
            await self._store.ping()

    async def customers_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        async with self._call("customers_by_ids"):
            return await self._store.customers_by_ids(ids=ids)

    async def sales_reps_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, SalesRepRecord]:
        async with self._call("sales_reps_by_ids"):
            return await self._store.sales_reps_by_ids(ids=ids)

    async def customers_by_sales_reps(
        self, *, keys: Sequence[RepCustomersKey]
    ) -> list[Page[CustomerRecord]]:
        async with self._call("customers_by_sales_reps"):
            return await self._store.customers_by_sales_reps(keys=keys)

    async def events_by_customers(
        self, *, customer_ids: Sequence[str], first: int
    ) -> Mapping[str, list[CustomerEventRecord]]:
        async with self._call("events_by_customers"):
            return await self._store.events_by_customers(customer_ids=customer_ids, first=first)

    async def customers_page(
        self, *, where: CustomerFilter, page: PageRequest
    ) -> Page[CustomerRecord]:
        async with self._call("customers_page"):
            return await self._store.customers_page(where=where, page=page)

    async def sales_reps_page(self, *, page: PageRequest) -> Page[SalesRepRecord]:
        async with self._call("sales_reps_page"):
            return await self._store.sales_reps_page(page=page)

    async def assign_customer(self, *, change: CustomerChange, sales_rep_id: str) -> CustomerRecord:
        async with self._call("assign_customer"):
            return await self._store.assign_customer(change=change, sales_rep_id=sales_rep_id)

    async def unassign_customer(self, *, change: CustomerChange) -> CustomerRecord:
        async with self._call("unassign_customer"):
            return await self._store.unassign_customer(change=change)

    async def update_customer_status(
        self, *, change: CustomerChange, status: CustomerStatus
    ) -> CustomerRecord:
        async with self._call("update_customer_status"):
            return await self._store.update_customer_status(change=change, status=status)

    async def update_customer(self, *, change: CustomerChange) -> CustomerRecord:
        async with self._call("update_customer"):
            return await self._store.update_customer(change=change)

    async def create_customer(self, *, customer: NewCustomer, actor: str | None) -> CustomerRecord:
        async with self._call("create_customer"):
            return await self._store.create_customer(customer=customer, actor=actor)
