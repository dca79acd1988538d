"""The fallback chain: reads try the stores in order; writes go to the primary only.

A read gets at most `attempts` tries on a store (full-jitter exponential
backoff between them, capped), then the next store answers. "Not found" is an
answer, never a reason to fall back. Each store has a circuit breaker, so
while a store is known to be down requests skip it at once instead of paying
for its retries. Every fallback is logged, counted (through the
StoreObserver, for the metrics), and recorded in the request's StoreUsage for
the response's `extensions` and the access log. Each attempt on a store is a
call of its observed wrapper, so the metrics count attempts and failures.

Retries are small explicit code rather than tenacity: the breaker decides
before every attempt whether the store may be tried at all, a timeout moves
on at once, and a refused or failed attempt is logged; a retry decorator would
hide each of those decisions in callbacks.

The chain is a router (stores/routed.py): `read` and `write` take the
operation's name and the call to make on a store, so each behaviour is
written once for every method of the protocols.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from graphql_api.errors import GraphqlApiError, StoreFailedError, StoreUnavailableError
from graphql_api.stores.backoff import full_jitter_delay
from graphql_api.stores.breaker import BreakerState, CircuitBreaker
from graphql_api.stores.observer import NoObserver, StoreObserver
from graphql_api.stores.protocol import StoreReader, StoreWriter
from graphql_api.stores.records import DataSource
from graphql_api.stores.routed import RoutedWriter
from graphql_api.stores.usage import StoreUsage

log = logging.getLogger("graphql_api.stores.chain")

_T = TypeVar("_T")
_StoreT_co = TypeVar("_StoreT_co", bound=StoreReader, covariant=True)

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
class StoreSlot(Generic[_StoreT_co]):
    """A store in the chain with the name it is logged under and its breaker."""

    name: str
    store: _StoreT_co
    breaker: CircuitBreaker


class FallbackChain:
    """Routes every read along the stores, every write to the primary.

    One chain is shared by all requests (it owns the breakers); `for_request`
    gives the StoreWriter a request uses, which also records into that
    request's StoreUsage. It is passed explicitly to the request's loaders
    rather than found through a contextvar, so what a request reports cannot
    depend on which task happened to run a batch.
    """

    def __init__(
        self,
        *,
        readers: Sequence[StoreSlot[StoreReader]],
        writer: StoreSlot[StoreWriter] | None,
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
        self._usage: StoreUsage | None = None

    def for_request(self, usage: StoreUsage) -> StoreWriter:
        view = copy.copy(self)  # shares slots and breakers
        view._usage = usage
        return RoutedWriter(view)

    @property
    def source(self) -> DataSource:
        return self._readers[0].store.source

    # -- reads ---------------------------------------------------------------

    async def read(self, operation: str, call: Callable[[StoreReader], Awaitable[_T]]) -> _T:
        failures: list[StoreFailedError] = []
        for position, slot in enumerate(self._readers):
            try:
                value = await self._with_retries(slot, call)
            except StoreFailedError as failure:
                failures.append(failure)
                continue
            if position > 0:
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
                    _reasons(failures),
                )
            if self._usage is not None:
                self._usage.served(slot.store.source, by_fallback=position > 0)
            return value
        if self._usage is not None:
            self._usage.unanswered()
        log.error("read %s: no store could answer (%s)", operation, _reasons(failures))
        raise StoreUnavailableError(tuple(slot.name for slot in self._readers))

    async def _with_retries(
        self, slot: StoreSlot[StoreReader], call: Callable[[StoreReader], Awaitable[_T]]
    ) -> _T:
        for attempt in range(self._policy.attempts):
            if not slot.breaker.allow():
                raise StoreFailedError(slot.name, BREAKER_OPEN)
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

    @staticmethod
    def _failed(slot: StoreSlot[StoreReader], failure: StoreFailedError) -> None:
        was_open = slot.breaker.state is BreakerState.OPEN
        slot.breaker.record_failure()
        if not was_open and slot.breaker.state is BreakerState.OPEN:
            log.warning("circuit breaker for %s opened (%s)", slot.name, failure.reason)

    @staticmethod
    def _succeeded(slot: StoreSlot[StoreReader]) -> None:
        if slot.breaker.state is not BreakerState.CLOSED:
            log.info("circuit breaker for %s closed: the store answers again", slot.name)
        slot.breaker.record_success()

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

    async def write(self, operation: str, call: Callable[[StoreWriter], Awaitable[_T]]) -> _T:
        """One try on the primary. A retried write could apply twice; a write
        elsewhere would make the stores diverge. So a failure is reported."""
        slot = self._writer
        if slot is None:
            log.warning("write %s refused: no writable store is configured", operation)
            raise StoreUnavailableError(tuple(slot.name for slot in self._readers))
        if not slot.breaker.allow():
            log.warning("write %s refused: the breaker for %s is open", operation, slot.name)
            raise StoreUnavailableError((slot.name,))
        try:
            value = await call(slot.store)
        except StoreFailedError as failure:
            self._failed(slot, failure)
            log.warning("write %s failed on %s: %s", operation, slot.name, failure.reason)
            raise StoreUnavailableError((slot.name,)) from None
        except GraphqlApiError:
            # Not found, version conflict, ...: the store answered.
            self._succeeded(slot)
            raise
        self._succeeded(slot)
        if self._usage is not None:
            self._usage.served(slot.store.source, by_fallback=False)
        return value


def _reasons(failures: Sequence[StoreFailedError]) -> str:
    return ", ".join(f"{failure.store}: {failure.reason}" for failure in failures)
