"""One subscription's stream: what it missed since its cursor, then live events.

A subscriber is registered with the hub first, so the live events after the
hub's position wait in its buffer while the events between its cursor and that
position are read from the store (the same pages the events query reads).
Then it says LIVE with the position it has reached, and hands on live events,
each only once: an event at or below what it already delivered is skipped.
A cursor of a client that never saw an event is the position of a state
message, so a client that reconnects always resumes without a gap.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import suppress
from dataclasses import dataclass

from graphql_api.errors import (
    FeedUnsupportedError,
    OverloadedError,
    ResumeWindowError,
    StoreFailedError,
    StoreUnavailableError,
)
from graphql_api.feed.hub import Delivery, FeedHub, FeedState, Subscriber
from graphql_api.stores.records import EventFilter

# Events a replay reads per statement.
REPLAY_PAGE = 500

NO_FEED = (
    "This server keeps no feed of events: its only store is DynamoDB, which keeps no order"
    " across customers. Live updates need MySQL (or the in-memory store)."
)


@dataclass(frozen=True, slots=True)
class StateChange:
    """The feed went LIVE (caught up, or back after a pause) or PAUSED."""

    state: FeedState
    # Every event up to here was delivered (or never matched): resume after it.
    # None while the hub has not read its position (the store was down at start).
    position: int | None
    reason: str | None = None


FeedItem = Delivery | StateChange


class FeedAccess:
    """What the subscriptions of one websocket connection share: the process's
    hub (None: no feed here), who subscribes (for the per-caller bound), what a
    dropped subscriber does to the connection, and the subscriptions still
    open, ended with the connection."""

    def __init__(self, hub: FeedHub | None, *, caller: str, on_drop: Callable[[str], None]) -> None:
        self._hub = hub
        self._caller = caller
        self._on_drop = on_drop
        self._open: set[LiveSubscription] = set()

    async def open(self, where: EventFilter, *, after: int | None) -> LiveSubscription:
        """A subscription, registered now; raises the typed refusals."""
        hub = self._hub
        if hub is None:
            raise FeedUnsupportedError(NO_FEED)
        if after is not None:
            # While the store cannot be read, the stream checks it once it can.
            with suppress(StoreUnavailableError):
                _check_window(hub, after, await hub.current_position())
        subscriber = hub.subscribe(where, caller=self._caller, on_drop=self._on_drop)
        subscription = LiveSubscription(hub, subscriber, after=after, opened=self._open)
        self._open.add(subscription)
        return subscription

    async def close_all(self) -> None:
        for subscription in list(self._open):
            await subscription.aclose()


def _check_window(hub: FeedHub, after: int, position: int) -> None:
    window = hub.settings.resume_window
    if position - after > window:
        raise ResumeWindowError(window, position - after)


class LiveSubscription:
    """The stream of one subscription; `aclose` takes it out of the hub."""

    def __init__(
        self,
        hub: FeedHub,
        subscriber: Subscriber,
        *,
        after: int | None,
        opened: set[LiveSubscription],
    ) -> None:
        self._hub = hub
        self._subscriber = subscriber
        self._after = after
        self._opened = opened
        self._items = self._stream()

    def __aiter__(self) -> LiveSubscription:
        return self

    async def __anext__(self) -> FeedItem:
        return await self._items.__anext__()

    async def aclose(self) -> None:
        self._hub.unsubscribe(self._subscriber)
        self._opened.discard(self)
        await self._items.aclose()

    async def _stream(self) -> AsyncGenerator[FeedItem, None]:
        hub, subscriber = self._hub, self._subscriber
        told_paused = False
        while subscriber.live_from is None:
            # The hub reads up to the newest event first (it was idle, or the
            # store is down): the LIVE item says when this subscriber is live.
            item = await subscriber.next()
            if item is None:
                return
            if item is FeedState.PAUSED and not told_paused:
                told_paused = True
                yield StateChange(FeedState.PAUSED, self._after, hub.pause_reason)
        live_from = subscriber.live_from
        if self._after is not None:
            _check_window(hub, self._after, live_from)
        delivered = live_from
        if self._after is not None:
            async for replayed in self._replay(self._after, live_from):
                yield replayed
            delivered = max(self._after, live_from)
        yield StateChange(FeedState.LIVE, delivered)
        while (item := await subscriber.next()) is not None:
            if isinstance(item, FeedState):
                reason = hub.pause_reason if item is FeedState.PAUSED else None
                yield StateChange(item, delivered, reason)
            elif item.event.id > delivered:
                delivered = item.event.id
                yield item

    async def _replay(self, after: int, until: int) -> AsyncGenerator[FeedItem, None]:
        """The events between the cursor and the hub's position, from the store;
        while it cannot be read, PAUSED once, and tries again each poll interval."""
        hub = self._hub
        position = after
        paused = False
        while position < until:
            try:
                page = await hub.feed.feed_page(
                    where=self._subscriber.where, after=position, until=until, first=REPLAY_PAGE
                )
            except (StoreFailedError, OverloadedError):
                if not paused:
                    paused = True
                    yield StateChange(FeedState.PAUSED, position, "STORE_UNAVAILABLE")
                await asyncio.sleep(hub.settings.poll_interval_s)
                continue
            for event in page.events:
                yield Delivery(event)
            position = page.end
