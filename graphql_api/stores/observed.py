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
from graphql_api.stores.protocol import StoreReader, StoreWriter
from graphql_api.stores.records import DataSource
from graphql_api.stores.routed import RoutedReader, RoutedWriter

_StoreT = TypeVar("_StoreT", bound=StoreReader)
_T = TypeVar("_T")


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
        started = time.perf_counter()
        failure: str | None = None
        try:
            return await call(self._store)
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
            self._observer.store_call(
                store=self._name, call=operation, seconds=seconds, failure=failure
            )

    # Writes are observed exactly like reads.
    write = read


def observed_reader(store: StoreReader, *, observer: StoreObserver, name: str) -> StoreReader:
    return RoutedReader(_Observation(store, observer=observer, name=name))


def observed_writer(store: StoreWriter, *, observer: StoreObserver, name: str) -> StoreWriter:
    return RoutedWriter(_Observation(store, observer=observer, name=name))
