"""A store wrapped so every call is timed and reported to a StoreObserver.

Expected outcomes (not found, version conflict, ...) are answers, not
failures; a StoreFailedError counts with its reason, anything else as
"error". The exception itself always propagates unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from graphql_api.errors import GraphqlApiError, OverloadedError, StoreFailedError
from graphql_api.stores.observer import StoreObserver
from graphql_api.stores.protocol import EventFeedReader, StoreReader, StoreWriter
from graphql_api.stores.records import DataSource, EventFilter, FeedEvent, FeedPage
from graphql_api.stores.routed import RoutedReader, RoutedWriter

_StoreT = TypeVar("_StoreT", bound=StoreReader)
_T = TypeVar("_T")


async def _observed(call: Awaitable[_T], observer: StoreObserver, store: str, operation: str) -> _T:
    """The call's outcome, with its time and failure (if any) reported."""
    started = time.perf_counter()
    failure: str | None = None
    try:
        return await call
    except StoreFailedError as error:
        failure = error.reason
        raise
    except OverloadedError:
        # The store was never asked: no connection came free in time.
        failure = "overloaded"
        raise
    except GraphqlApiError:
        raise
    except Exception:
        failure = "error"
        raise
    finally:
        seconds = time.perf_counter() - started
        observer.store_call(store=store, call=operation, seconds=seconds, failure=failure)


class _Observation(Generic[_StoreT]):
    """The router: each call on the store, timed and reported under its name."""

    def __init__(self, store: _StoreT, *, observer: StoreObserver, name: str) -> None:
        self._store = store
        self._observer = observer
        self._name = name

    @property
    def source(self) -> DataSource:
        return self._store.source

    async def ping(self) -> None:
        await self.read("ping", lambda store: store.ping())

    async def read(self, operation: str, call: Callable[[_StoreT], Awaitable[_T]]) -> _T:
        return await _observed(call(self._store), self._observer, self._name, operation)

    # Writes are observed exactly like reads.
    write = read


class ObservedFeed:
    """The event feed, each call timed and reported like any store call."""

    def __init__(self, feed: EventFeedReader, *, observer: StoreObserver, name: str) -> None:
        self._feed = feed
        self._observer = observer
        self._name = name

    @property
    def source(self) -> DataSource:
        return self._feed.source

    async def newest_event_id(self) -> int:
        return await _observed(
            self._feed.newest_event_id(), self._observer, self._name, "newest_event_id"
        )

    async def events_after(self, *, after: int, limit: int) -> list[FeedEvent]:
        call = self._feed.events_after(after=after, limit=limit)
        return await _observed(call, self._observer, self._name, "events_after")

    async def feed_page(
        self, *, where: EventFilter, after: int, until: int, first: int
    ) -> FeedPage:
        call = self._feed.feed_page(where=where, after=after, until=until, first=first)
        return await _observed(call, self._observer, self._name, "feed_page")


def observed_reader(store: StoreReader, *, observer: StoreObserver, name: str) -> StoreReader:
    return RoutedReader(_Observation(store, observer=observer, name=name))


def observed_writer(store: StoreWriter, *, observer: StoreObserver, name: str) -> StoreWriter:
    return RoutedWriter(_Observation(store, observer=observer, name=name))
