"""The fallback chain: reads try the stores in order; writes go to the primary only.

A read gets at most `attempts` tries on a store (full-jitter exponential
backoff between them, capped), then the next store answers. "Not found" is an
answer, never a reason to fall back. Each store has a circuit breaker, so
while a store is known to be down requests skip it at once instead of paying
for its retries. Every fallback is logged, counted (here and through the
StoreObserver, for the metrics), and recorded in the request's StoreUsage for
the response's `extensions` and the access log.

Retries are small explicit code rather than tenacity: the breaker decides
before every attempt whether the store may be tried at all, a timeout moves
on at once, and the attempt counts feed the counters; a retry decorator would
hide each of those decisions in callbacks.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from graphql_api.errors import GraphqlApiError, StoreFailedError, StoreUnavailableError
from graphql_api.stores.backoff import full_jitter_delay
from graphql_api.stores.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from graphql_api.stores.observer import NoObserver, StoreObserver
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
from graphql_api.stores.usage import StoreUsage

log = logging.getLogger("graphql_api.stores.chain")

_T = TypeVar("_T")

# Failures another try cannot fix within this request: a timeout already spent
# the store's whole budget, and a missing table or a refused role stay so.
_NOT_RETRIED = frozenset({"timeout", "table-missing", "access-denied"})
# Reported when the breaker refused the call; the store was not tried.
BREAKER_OPEN = "breaker-open"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int
    base_delay_s: float
    max_delay_s: float


@dataclass(frozen=True, slots=True)
class StoreSlot:
    """A store in the chain with the name it is logged under and its breaker."""

    name: str
    store: Store
    breaker: CircuitBreaker


@dataclass(slots=True)
class _StoreCounters:
    attempts: int = 0
    retries: int = 0
    skipped: int = 0
    served: int = 0
    failures: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class StoreStats:
    attempts: int
    retries: int
    # Calls the open breaker refused without trying the store.
    skipped: int
    served: int
    failures: Mapping[str, int]
    breaker: BreakerSnapshot


@dataclass(frozen=True, slots=True)
class ChainStats:
    stores: Mapping[str, StoreStats]
    # Reads answered by a store after the first.
    fallbacks: int
    # Reads no store could answer.
    unavailable: int
    # Writes refused because the primary was down.
    writes_refused: int


class FallbackChain:
    """Implements the Store protocol over several stores.

    One chain is shared by all requests (it owns the breakers and counters);
    `for_request` gives a view that also records into that request's
    StoreUsage. The view is passed explicitly to the request's loaders rather
    than found through a contextvar, so what a request reports cannot depend
    on which task happened to run a batch.
    """

    def __init__(
        self,
        *,
        readers: Sequence[StoreSlot],
        writer: StoreSlot | None,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        draw: Callable[[], float] = random.random,
        observer: StoreObserver | None = None,
    ) -> None:
        assert readers, "a chain needs at least one store to read from"
        self._readers = tuple(readers)
        self._writer = writer
        self._policy = policy
        self._sleep = sleep
        self._draw = draw
        self._observer: StoreObserver = observer or NoObserver()
        self._counters = {slot.name: _StoreCounters() for slot in self._slots()}
        self._totals: Counter[str] = Counter()
        self._usage: StoreUsage | None = None

    def _slots(self) -> tuple[StoreSlot, ...]:
        return self._readers if self._writer is None else (*self._readers, self._writer)

    def for_request(self, usage: StoreUsage) -> FallbackChain:
        view = copy.copy(self)  # shares slots, breakers and counters
        view._usage = usage
        return view

    @property
    def source(self) -> DataSource:
        return self._readers[0].store.source

    def stats(self) -> ChainStats:
        """A snapshot of the counters, for logs and tests (metrics come through the observer)."""
        slots = {slot.name: slot for slot in self._slots()}
        return ChainStats(
            stores={
                name: StoreStats(
                    attempts=counters.attempts,
                    retries=counters.retries,
                    skipped=counters.skipped,
                    served=counters.served,
                    failures=dict(counters.failures),
                    breaker=slots[name].breaker.snapshot(),
                )
                for name, counters in self._counters.items()
            },
            fallbacks=self._totals["fallbacks"],
            unavailable=self._totals["unavailable"],
            writes_refused=self._totals["writes_refused"],
        )

    # -- reads ---------------------------------------------------------------

    async def _read(self, operation: str, call: Callable[[Store], Awaitable[_T]]) -> _T:
        failures: list[StoreFailedError] = []
        for position, slot in enumerate(self._readers):
            try:
                value = await self._with_retries(slot, call)
            except StoreFailedError as failure:
                failures.append(failure)
                continue
            self._counters[slot.name].served += 1
            if position > 0:
                self._totals["fallbacks"] += 1
                # Every store before this one failed; the first is the one preferred.
                self._observer.store_fallback(from_store=self._readers[0].name, to_store=slot.name)
                # A store that failed just now is news; one the open breaker
                # skipped was reported when the breaker opened, so an outage
                # logs a warning per real failure, not per request.
                tried = any(failure.reason != BREAKER_OPEN for failure in failures)
                log.log(
                    logging.WARNING if tried else logging.INFO,
                    "read %s served by fallback store %s after %s",
                    operation,
                    slot.name,
                    ", ".join(f"{failure.store}: {failure.reason}" for failure in failures),
                )
            if self._usage is not None:
                self._usage.served(slot.store.source, by_fallback=position > 0)
            return value
        self._totals["unavailable"] += 1
        if self._usage is not None:
            self._usage.unanswered()
        log.error(
            "read %s: no store could answer (%s)",
            operation,
            ", ".join(f"{failure.store}: {failure.reason}" for failure in failures),
        )
        raise StoreUnavailableError(tuple(slot.name for slot in self._readers))

    async def _with_retries(self, slot: StoreSlot, call: Callable[[Store], Awaitable[_T]]) -> _T:
        counters = self._counters[slot.name]
        for attempt in range(self._policy.attempts):
            if not slot.breaker.allow():
                counters.skipped += 1
                raise StoreFailedError(slot.name, BREAKER_OPEN)
            counters.attempts += 1
            try:
                value = await call(slot.store)
            except StoreFailedError as failure:
                self._failed(slot, failure)
                if (
                    failure.reason in _NOT_RETRIED
                    or attempt + 1 == self._policy.attempts
                    or slot.breaker.state is not BreakerState.CLOSED
                ):
                    raise
                counters.retries += 1
                await self._sleep(self._delay(attempt))
                continue
            self._succeeded(slot)
            return value
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _delay(self, retry: int) -> float:
        return full_jitter_delay(
            retry,
            base_s=self._policy.base_delay_s,
            cap_s=self._policy.max_delay_s,
            draw=self._draw(),
        )

    def _failed(self, slot: StoreSlot, failure: StoreFailedError) -> None:
        self._counters[slot.name].failures[failure.reason] += 1
        was_open = slot.breaker.state is BreakerState.OPEN
        slot.breaker.record_failure()
        if not was_open and slot.breaker.state is BreakerState.OPEN:
            log.warning("circuit breaker for %s opened (%s)", slot.name, failure.reason)

    def _succeeded(self, slot: StoreSlot) -> None:
        if slot.breaker.state is not BreakerState.CLOSED:
            log.info("circuit breaker for %s closed: the store answers again", slot.name)
        slot.breaker.record_success()

    async def customers_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        return await self._read("customers_by_ids", lambda store: store.customers_by_ids(ids=ids))

    async def sales_reps_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, SalesRepRecord]:
        return await self._read("sales_reps_by_ids", lambda store: store.sales_reps_by_ids(ids=ids))

    async def customers_by_sales_reps(
        self, *, keys: Sequence[RepCustomersKey]
    ) -> list[Page[CustomerRecord]]:
        return await self._read(
            "customers_by_sales_reps", lambda store: store.customers_by_sales_reps(keys=keys)
        )

    async def events_by_customers(
        self, *, customer_ids: Sequence[str], first: int
    ) -> Mapping[str, list[CustomerEventRecord]]:
        return await self._read(
            "events_by_customers",
            lambda store: store.events_by_customers(customer_ids=customer_ids, first=first),
        )

    async def customers_page(
        self, *, where: CustomerFilter, page: PageRequest
    ) -> Page[CustomerRecord]:
        return await self._read(
            "customers_page", lambda store: store.customers_page(where=where, page=page)
        )

    async def sales_reps_page(self, *, page: PageRequest) -> Page[SalesRepRecord]:
        return await self._read("sales_reps_page", lambda store: store.sales_reps_page(page=page))

    async def ping(self) -> None:
        """Succeeds while any store can serve reads: with the primary down the
        fallback still answers, so this instance is still worth routing to."""
        for slot in self._readers:
            try:
                await slot.store.ping()
            except StoreFailedError:
                continue
            return
        raise StoreUnavailableError(tuple(slot.name for slot in self._readers))

    # -- writes --------------------------------------------------------------

    async def _write(self, operation: str, call: Callable[[Store], Awaitable[_T]]) -> _T:
        """One try on the primary. A retried write could apply twice; a write
        elsewhere would make the stores diverge. So a failure is reported."""
        slot = self._writer
        if slot is None:
            self._totals["writes_refused"] += 1
            log.warning("write %s refused: no writable store is configured", operation)
            raise StoreUnavailableError(tuple(slot.name for slot in self._readers))
        if not slot.breaker.allow():
            self._counters[slot.name].skipped += 1
            self._totals["writes_refused"] += 1
            log.warning("write %s refused: the breaker for %s is open", operation, slot.name)
            raise StoreUnavailableError((slot.name,))
        self._counters[slot.name].attempts += 1
        try:
            value = await call(slot.store)
        except StoreFailedError as failure:
            self._failed(slot, failure)
            self._totals["writes_refused"] += 1
            log.warning("write %s failed on %s: %s", operation, slot.name, failure.reason)
            raise StoreUnavailableError((slot.name,)) from None
        except GraphqlApiError:
            # Not found, version conflict, ...: the store answered.
            self._succeeded(slot)
            raise
        self._succeeded(slot)
        self._counters[slot.name].served += 1
        if self._usage is not None:
            self._usage.served(slot.store.source, by_fallback=False)
        return value

    async def assign_customer(self, *, change: CustomerChange, sales_rep_id: str) -> CustomerRecord:
        return await self._write(
            "assign_customer",
            lambda store: store.assign_customer(change=change, sales_rep_id=sales_rep_id),
        )

    async def unassign_customer(self, *, change: CustomerChange) -> CustomerRecord:
        return await self._write(
            "unassign_customer", lambda store: store.unassign_customer(change=change)
        )

    async def update_customer_status(
        self, *, change: CustomerChange, status: CustomerStatus
    ) -> CustomerRecord:
        return await self._write(
            "update_customer_status",
            lambda store: store.update_customer_status(change=change, status=status),
        )

    async def update_customer(self, *, change: CustomerChange) -> CustomerRecord:
        return await self._write(
            "update_customer", lambda store: store.update_customer(change=change)
        )

    async def create_customer(self, *, customer: NewCustomer, actor: str | None) -> CustomerRecord:
        return await self._write(
            "create_customer",
            lambda store: store.create_customer(customer=customer, actor=actor),
        )
