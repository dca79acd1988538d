"""Per-request DataLoaders: one per key kind, each batch one store call.

Created fresh for every request (see context.py) so no cache outlives it.
Pages prime the by-id loaders, so `customer.salesRep` under a rep's customers
costs no extra statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar, overload

from aiodataloader import DataLoader, Loader, dispatch_queue_batch

from graphql_api.stores.protocol import StoreReader
from graphql_api.stores.records import (
    CustomerEventRecord,
    CustomerFilter,
    CustomerRecord,
    Page,
    PageRequest,
    RepCustomersKey,
    SalesRepRecord,
)

_KeyT = TypeVar("_KeyT")
# Records are primed under their id.
_ID = attrgetter("id")
_ABSENT: Any = object()
_ValueT = TypeVar("_ValueT")


class RequestLoader(DataLoader[_KeyT, _ValueT]):
    """A DataLoader that can keep a failed read failed for the rest of its request.

    aiodataloader forgets the keys of a batch that failed, so the next load of
    a key asks the stores again. Once `keep_failures` is set (the fast path sets
    it before it reads: a request it hands on to strawberry must not pay the
    store chain's retries twice), a failed key stays failed in this request.
    """

    keep_failures = False

    def __init__(self) -> None:
        super().__init__()
        # Primed values nobody has loaded yet. A page primes every record on it
        # and few are ever loaded by id again: a dict entry costs a tenth of
        # the future aiodataloader makes, which is made now only when loaded.
        self._primed: dict[Any, _ValueT] = {}
        # Whole pages primed, each entered into _primed when a load first looks.
        self._pages: list[tuple[Sequence[Any], Callable[[Any], Any]]] = []
        # Batches started and not yet ended.
        self._batches: set[asyncio.Task[None]] = set()

    def load(self, key: _KeyT) -> asyncio.Future[_ValueT]:
        # DataLoader.load, written out for the path every load takes (hundreds a
        # request); our loaders' cache key is the key itself.
        if key is None:
            raise TypeError("The loader.load() function must be called with a value, not None.")
        if not self.cache:
            future: asyncio.Future[_ValueT] = self.loop.create_future()
            self.do_resolve_reject(key, future)
            return future
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self._pages:
            self._enter_pages()
        if self._primed:
            value = self._primed.pop(key, _ABSENT)
            if value is not _ABSENT:
                DataLoader.prime(self, key, value)
                return self._cache[key]
        future = self._cache[key] = self.loop.create_future()
        self.do_resolve_reject(key, future)
        return future

    def do_resolve_reject(self, key: _KeyT, future: asyncio.Future[_ValueT]) -> None:
        self._queue.append(Loader(key, future))
        if len(self._queue) == 1:
            if self.batch:
                # A batch of the keys loaded until the loop's next turn.
                self.loop.call_soon(self.dispatch)
            else:
                self.dispatch()

    def dispatch(self) -> None:
        """Starts the batch of the keys queued so far, if any.

        One task runs it. aiodataloader schedules a task that schedules the
        task: a coroutine, a task and a turn of the event loop more for every
        statement a request makes."""
        if not self._queue:
            return  # dispatched already (settle)
        queue, self._queue = self._queue, []
        batch = self.loop.create_task(dispatch_queue_batch(self, queue))
        self._batches.add(batch)
        batch.add_done_callback(self._batches.discard)

    async def settle(self) -> None:
        """Starts what is queued and waits for every batch of this loader to end."""
        self.dispatch()
        if self._batches:
            await asyncio.gather(*self._batches, return_exceptions=True)

    def prime_page(self, values: Sequence[_ValueT], key_of: Callable[[Any], _KeyT]) -> None:
        """Primes each value under key_of(value), as prime() would, one after
        the other. A page primes a hundred records and few are ever loaded by
        key again: the page is kept as it is until a load looks."""
        if values:
            self._pages.append((values, key_of))

    def _enter_pages(self) -> None:
        pages, self._pages = self._pages, []
        cache, primed = self._cache, self._primed
        for values, key_of in pages:
            for value in values:
                key = key_of(value)
                if key not in cache:
                    primed.setdefault(key, value)

    def prime(self, key: _KeyT, value: _ValueT) -> RequestLoader[_KeyT, _ValueT]:
        if self._pages:
            self._enter_pages()  # earlier primes come first
        cache_key = self.get_cache_key(key)
        if cache_key not in self._cache:
            self._primed.setdefault(cache_key, value)
        return self

    def clear(self, key: _KeyT) -> RequestLoader[_KeyT, _ValueT]:
        if self.keep_failures:
            # aiodataloader's failed_dispatch clears each key of the failed batch
            # just before it rejects the key's (not yet done) future: keep it.
            cached = self._cache.get(self.get_cache_key(key))
            if cached is not None and not cached.done():
                return self
        if self._pages:
            self._enter_pages()
        self._primed.pop(self.get_cache_key(key), None)
        super().clear(key)
        return self

    def clear_all(self) -> RequestLoader[_KeyT, _ValueT]:
        self._pages.clear()
        self._primed.clear()
        super().clear_all()
        return self

    def prime_failure(self, key: _KeyT, error: Exception) -> None:
        """The key's read failed elsewhere in this request: it is failed here too."""
        if self._pages:
            self._enter_pages()
        cache_key = self.get_cache_key(key)
        if cache_key not in self._cache and cache_key not in self._primed:
            super().prime(key, error)  # type: ignore[arg-type]
            # Noted as retrieved: a load that finds it raises; nobody need.
            self._cache[cache_key].exception()


_LoaderT = TypeVar("_LoaderT", bound=RequestLoader[Any, Any])


class CustomerByIdLoader(RequestLoader[str, CustomerRecord | None]):
    def __init__(self, store: StoreReader) -> None:
        super().__init__()
        self._store = store

    async def batch_load_fn(self, keys: Sequence[str]) -> list[CustomerRecord | None]:
        found = await self._store.customers_by_ids(ids=list(keys))
        return [found.get(key) for key in keys]


class SalesRepByIdLoader(RequestLoader[str, SalesRepRecord | None]):
    def __init__(self, store: StoreReader) -> None:
        super().__init__()
        self._store = store

    async def batch_load_fn(self, keys: Sequence[str]) -> list[SalesRepRecord | None]:
        found = await self._store.sales_reps_by_ids(ids=list(keys))
        return [found.get(key) for key in keys]


class CustomerAndRepByIdLoader(RequestLoader[str, CustomerRecord | None]):
    """Customers by id, each read together with its rep (the store joins them),
    for a query that selects `customer(id) { salesRep { ... } }`: the reps are
    primed, so `salesRep` costs no read of its own."""

    def __init__(
        self,
        store: StoreReader,
        customers_by_id: CustomerByIdLoader,
        sales_reps_by_id: SalesRepByIdLoader,
    ) -> None:
        super().__init__()
        self._store = store
        self._customers_by_id = customers_by_id
        self._sales_reps_by_id = sales_reps_by_id

    async def batch_load_fn(self, keys: Sequence[str]) -> list[CustomerRecord | None]:
        try:
            found = await self._store.customers_and_reps_by_ids(ids=list(keys))
        except Exception as error:
            if self.keep_failures:
                # The reference execution, answering a request the fast path hands
                # on, reads these customers through customer_by_id: failed there too.
                for key in keys:
                    self._customers_by_id.prime_failure(key, error)
            raise
        for rep in found.sales_reps.values():
            self._sales_reps_by_id.prime(rep.id, rep)
        for customer in found.customers.values():
            self._customers_by_id.prime(customer.id, customer)
        return [found.customers.get(key) for key in keys]


class CustomersBySalesRepLoader(RequestLoader[RepCustomersKey, Page[CustomerRecord]]):
    def __init__(self, store: StoreReader, customers_by_id: CustomerByIdLoader) -> None:
        super().__init__()
        self._store = store
        self._customers_by_id = customers_by_id

    async def batch_load_fn(self, keys: Sequence[RepCustomersKey]) -> list[Page[CustomerRecord]]:
        pages = await self._store.customers_by_sales_reps(keys=list(keys))
        for key, page in zip(keys, pages, strict=True):
            if key.fields is None:  # partial records must not answer a by-id load
                self._customers_by_id.prime_page(page.items, _ID)
        return pages


@dataclass(frozen=True, slots=True)
class EventsKey:
    customer_id: str
    first: int


class EventsByCustomerLoader(RequestLoader[EventsKey, list[CustomerEventRecord]]):
    def __init__(self, store: StoreReader) -> None:
        super().__init__()
        self._store = store

    async def batch_load_fn(self, keys: Sequence[EventsKey]) -> list[list[CustomerEventRecord]]:
        by_first: dict[int, list[str]] = {}
        for key in keys:
            by_first.setdefault(key.first, []).append(key.customer_id)
        found: dict[EventsKey, list[CustomerEventRecord]] = {}
        # One call per distinct page size; one GraphQL level shares one size.
        for first, customer_ids in by_first.items():
            events = await self._store.events_by_customers(customer_ids=customer_ids, first=first)
            for customer_id in customer_ids:
                found[EventsKey(customer_id, first)] = events.get(customer_id, [])
        return [found[key] for key in keys]


@dataclass(frozen=True, slots=True)
class HistoriesKey:
    """The histories of a level's customers, one page size, as one key."""

    customer_ids: tuple[str, ...]
    first: int
    # False: the events without their details (StoreReader.events_by_customers).
    details: bool = True


class HistoriesLoader(RequestLoader[HistoriesKey, list[list[CustomerEventRecord]]]):
    """Histories a whole level at a time, for the fast path.

    A load per customer (what strawberry's resolvers do) costs a future, a
    queue entry and a callback each: 14,000 machine instructions a key, and a
    level of a page holds hundreds of customers. One key per level costs that
    once. Keys loaded in the same tick still share a store call per page size,
    as the per-customer loader's do, so the statements are the same.
    """

    def __init__(self, store: StoreReader, events_by_customer: EventsByCustomerLoader) -> None:
        super().__init__()
        self._store = store
        self._events_by_customer = events_by_customer

    async def batch_load_fn(
        self, keys: Sequence[HistoriesKey]
    ) -> list[list[list[CustomerEventRecord]]]:
        by_first: dict[int, dict[str, None]] = {}
        details: dict[int, bool] = {}
        for key in keys:
            # A dict keeps the ids in order and once (two aliases, one customer).
            by_first.setdefault(key.first, {}).update(dict.fromkeys(key.customer_ids))
            # One read per size still: with details when any key of it wants them.
            details[key.first] = details.get(key.first, False) or key.details
        found: dict[int, Mapping[str, list[CustomerEventRecord]]] = {}
        for first, customer_ids in by_first.items():
            try:
                found[first] = await self._store.events_by_customers(
                    customer_ids=list(customer_ids), first=first, details=details[first]
                )
            except Exception as error:
                if self.keep_failures:
                    # The reference execution, answering a request the fast path
                    # hands on, reads these through events_by_customer: failed too.
                    for customer_id in customer_ids:
                        self._events_by_customer.prime_failure(EventsKey(customer_id, first), error)
                raise
        return [
            [found[key.first].get(customer_id, []) for customer_id in key.customer_ids]
            for key in keys
        ]


@dataclass(frozen=True, slots=True)
class CustomerSearchKey:
    where: CustomerFilter
    page: PageRequest


class CustomerSearchLoader(RequestLoader[CustomerSearchKey, Page[CustomerRecord]]):
    def __init__(self, store: StoreReader, customers_by_id: CustomerByIdLoader) -> None:
        super().__init__()
        self._store = store
        self._customers_by_id = customers_by_id

    async def batch_load_fn(self, keys: Sequence[CustomerSearchKey]) -> list[Page[CustomerRecord]]:
        pages = [await self._store.customers_page(where=k.where, page=k.page) for k in keys]
        for page in pages:
            self._customers_by_id.prime_page(page.items, _ID)
        return pages


class SalesRepPageLoader(RequestLoader[PageRequest, Page[SalesRepRecord]]):
    def __init__(self, store: StoreReader, sales_reps_by_id: SalesRepByIdLoader) -> None:
        super().__init__()
        self._store = store
        self._sales_reps_by_id = sales_reps_by_id

    async def batch_load_fn(self, keys: Sequence[PageRequest]) -> list[Page[SalesRepRecord]]:
        pages = [await self._store.sales_reps_page(page=key) for key in keys]
        for page in pages:
            self._sales_reps_by_id.prime_page(page.items, _ID)
        return pages


class _Made(Generic[_LoaderT]):
    """A loader of the request, made on first use by `make` and kept."""

    def __init__(self, make: Callable[[Loaders], _LoaderT]) -> None:
        self._make = make

    def __set_name__(self, owner: type[Loaders], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, loaders: None, owner: type[Loaders]) -> _Made[_LoaderT]: ...

    @overload
    def __get__(self, loaders: Loaders, owner: type[Loaders]) -> _LoaderT: ...

    def __get__(self, loaders: Loaders | None, owner: type[Loaders]) -> _LoaderT | _Made[_LoaderT]:
        if loaders is None:
            return self
        loader = loaders.made(self._make(loaders))
        # An instance attribute from now on: the next access skips this.
        loaders.__dict__[self._name] = loader
        return loader


class Loaders:
    """One request's loaders, each made when the request first needs it.

    Most requests need one or two of the seven; making the others cost a few
    microseconds a request for nothing. `batching` False (the benchmark's naive
    peer) makes every load its own store call, uncached.
    """

    def __init__(self, store: StoreReader, *, batching: bool = True) -> None:
        self.store = store
        self._batching = batching
        self._keep_failures = False
        self._made: list[RequestLoader[Any, Any]] = []

    def made(self, loader: _LoaderT) -> _LoaderT:
        """A loader just made for this request, set up as the request needs."""
        loader.batch = loader.cache = self._batching
        loader.keep_failures = self._keep_failures
        self._made.append(loader)
        return loader

    customer_by_id = _Made(lambda loaders: CustomerByIdLoader(loaders.store))
    sales_rep_by_id = _Made(lambda loaders: SalesRepByIdLoader(loaders.store))
    customer_and_rep_by_id = _Made(
        lambda loaders: CustomerAndRepByIdLoader(
            loaders.store, loaders.customer_by_id, loaders.sales_rep_by_id
        )
    )
    customers_by_sales_rep = _Made(
        lambda loaders: CustomersBySalesRepLoader(loaders.store, loaders.customer_by_id)
    )
    events_by_customer = _Made(lambda loaders: EventsByCustomerLoader(loaders.store))
    histories = _Made(lambda loaders: HistoriesLoader(loaders.store, loaders.events_by_customer))
    customer_search = _Made(
        lambda loaders: CustomerSearchLoader(loaders.store, loaders.customer_by_id)
    )
    sales_rep_page = _Made(
        lambda loaders: SalesRepPageLoader(loaders.store, loaders.sales_rep_by_id)
    )

    async def settle(self) -> None:
        """Every read this request asked for is made and has ended, also those
        whose answer nobody waits for any more (a sibling field's error ended
        the execution): what the response reports of the stores it used must
        not depend on how far they got by then."""
        for loader in self._made:
            await loader.settle()

    def keep_failures(self) -> None:
        """From now on a read that failed in this request stays failed in it."""
        self._keep_failures = True
        for loader in self._made:
            loader.keep_failures = True

    def forget_customer(self, customer: CustomerRecord) -> None:
        """After a write in this request, later reads must see the new state."""
        self.customer_by_id.clear(customer.id).prime(customer.id, customer)
        # Lists that may hold the customer; a loader not made yet holds nothing.
        for name in (
            "customer_and_rep_by_id",
            "customers_by_sales_rep",
            "events_by_customer",
            "histories",
            "customer_search",
        ):
            made = self.__dict__.get(name)
            if made is not None:
                made.clear_all()


def create_loaders(store: StoreReader, *, batching: bool = True) -> Loaders:
    return Loaders(store, batching=batching)
