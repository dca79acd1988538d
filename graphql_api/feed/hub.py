"""One poller per process for all its subscribers, and the fan-out in memory.

While anyone subscribes, every `poll_interval_s` the hub reads the events
after its position with one statement (EventFeedReader.events_after), however
many subscribers there are (none: no statement; a first subscriber, or the
events query, has it read up to the newest event first),
puts them in order (sequencer.py) and hands each to the subscribers whose
filter holds it, found through an index by customer and by rep. Every process
does the same, so a change made through any replica reaches the subscribers
of all of them, with no infrastructure besides the table every write already
fills.

Each subscriber has a bounded buffer. One that does not keep up (its socket
does not drain) is dropped when the buffer is full, and its connection closed,
rather than letting memory grow. While the store cannot be read the hub
pauses, tells every subscriber, and keeps its position: when the store
answers again it reads on from there, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Protocol

from graphql_api.errors import (
    OverloadedError,
    StoreFailedError,
    StoreUnavailableError,
    SubscriptionLimitError,
    raised_at,
)
from graphql_api.feed.sequencer import EventSequencer
from graphql_api.settings import FeedSettings
from graphql_api.stores.protocol import EventFeedReader
from graphql_api.stores.records import EventFilter, FeedEvent

log = logging.getLogger("graphql_api.feed")

# Events one poll reads at most; a full read is followed by the next at once.
POLL_BATCH = 1_000


class FeedState(enum.Enum):
    LIVE = "LIVE"
    PAUSED = "PAUSED"


class Delivery:
    """One event as the hub hands it to every subscriber whose filter holds it.

    `memo` keeps what the transport makes of the event, made once for all of
    them (the GraphQL message and its executions: schema/feed.py)."""

    __slots__ = ("event", "memo")

    def __init__(self, event: FeedEvent) -> None:
        self.event = event
        self.memo: dict[object, object] = {}


HubItem = Delivery | FeedState


class FeedObserver(Protocol):
    def feed_polled(self, *, outcome: str, seconds: float) -> None:
        """One poll ended: `ok`, or why it read nothing (`connection`, `overloaded`, ...)."""

    def feed_fanned_out(self, *, lags_s: Sequence[float], deliveries: int, given_up: int) -> None:
        """A poll's events went to `deliveries` subscriber buffers; each event's
        lag from its write to the poll that read it; ids given up as rolled back."""

    def feed_subscribers(self, count: int) -> None:
        """Subscribers now served by this process."""

    def feed_paused(self, paused: bool) -> None:
        """The feed paused (the store cannot be read) or is live again."""

    def feed_dropped(self, reason: str) -> None:
        """A subscriber was dropped: `slow` (its buffer filled)."""


class NoFeedObserver:
    def feed_polled(self, *, outcome: str, seconds: float) -> None:
        return

    def feed_fanned_out(self, *, lags_s: Sequence[float], deliveries: int, given_up: int) -> None:
        return

    def feed_subscribers(self, count: int) -> None:
        return

    def feed_paused(self, paused: bool) -> None:
        return

    def feed_dropped(self, reason: str) -> None:
        return


class Subscriber:
    """One subscription's place in the hub: its filter and its bounded buffer."""

    __slots__ = (
        "_items",
        "_waiter",
        "caller",
        "capacity",
        "dropped",
        "ended",
        "live_from",
        "on_drop",
        "where",
    )

    def __init__(
        self, where: EventFilter, *, caller: str, capacity: int, on_drop: Callable[[str], None]
    ) -> None:
        self.where = where
        self.caller = caller
        self.capacity = capacity
        self.on_drop = on_drop
        # Events above this position come live; the ones up to it are replayed.
        self.live_from: int | None = None
        self._items: deque[HubItem] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.dropped: str | None = None
        self.ended = False

    def offer(self, item: HubItem) -> bool:
        """False when the buffer is full (the hub then drops the subscriber)."""
        if len(self._items) >= self.capacity:
            return False
        self._items.append(item)
        self._wake()
        return True

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def end(self, *, dropped: str | None = None) -> None:
        self.dropped = dropped
        self.ended = True
        self._items.clear()
        self._wake()

    async def next(self) -> HubItem | None:
        """The next item; None once ended (the hub stopped, or dropped it: then
        `on_drop` has closed the subscriber's connection)."""
        while not self._items:
            if self.ended:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


class FeedHub:
    def __init__(
        self,
        feed: EventFeedReader,
        settings: FeedSettings,
        *,
        observer: FeedObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.feed = feed
        self.settings = settings
        self._observer: FeedObserver = observer or NoFeedObserver()
        self._wall_clock = wall_clock
        self._sequencer = EventSequencer(
            gap_timeout_s=settings.gap_timeout_s, clock=clock, wall_clock=wall_clock
        )
        # Every event up to here has been handed out; None until first read.
        self.position: int | None = None
        self.pause_reason: str | None = None
        # Polled without a pause since the last read found nothing more to read:
        # the position is current, and a new subscriber is live from it at once.
        self._current = False
        # Every subscriber; those waiting for the hub to be current (it was idle,
        # or is catching up) are not in the indexes yet.
        self._all: set[Subscriber] = set()
        self._waiting: set[Subscriber] = set()
        self._by_customer: dict[str, set[Subscriber]] = {}
        self._by_rep: dict[str, set[Subscriber]] = {}
        self._unfiltered: set[Subscriber] = set()
        self._per_caller: dict[str, int] = {}
        # One read at a time (the loop's or an events query's).
        self._reading = asyncio.Lock()
        self._subscribed = asyncio.Event()

    # -- subscribers -----------------------------------------------------------

    def subscribe(
        self, where: EventFilter, *, caller: str, on_drop: Callable[[str], None]
    ) -> Subscriber:
        """A new subscriber: live from the hub's position when it is current, else
        once the hub has read up to the newest event (its `live_from` is None till
        then, and a LIVE item says when). OverloadedError when this process serves
        as many as it may, SubscriptionLimitError when the caller holds as many as
        one may."""
        settings = self.settings
        if len(self._all) >= settings.max_subscriptions:
            raise OverloadedError("subscriptions")
        held = self._per_caller.get(caller, 0)
        if held >= settings.max_subscriptions_per_caller:
            raise SubscriptionLimitError(
                "subscriptionsPerCaller", settings.max_subscriptions_per_caller
            )
        subscriber = Subscriber(
            where, caller=caller, capacity=settings.buffer_messages, on_drop=on_drop
        )
        self._per_caller[caller] = held + 1
        self._all.add(subscriber)
        if self._current:
            subscriber.live_from = self.position
            self._index_of(where).add(subscriber)
        else:
            self._waiting.add(subscriber)
            self._subscribed.set()
        self._observer.feed_subscribers(len(self._all))
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber not in self._all:
            return
        self._all.discard(subscriber)
        held = self._per_caller.pop(subscriber.caller) - 1
        if held:
            self._per_caller[subscriber.caller] = held
        if subscriber in self._waiting:
            self._waiting.discard(subscriber)
        else:
            index = self._index_of(subscriber.where)
            index.discard(subscriber)
            if not index:
                self._forget_index(subscriber.where)
        if not self._all:
            # Idle from now: nobody reads the feed, so the hub stops polling.
            self._current = False
        self._observer.feed_subscribers(len(self._all))

    def _index_of(self, where: EventFilter) -> set[Subscriber]:
        # A filter by customer and rep is found by customer, then checked.
        if where.customer_id is not None:
            return self._by_customer.setdefault(where.customer_id, set())
        if where.sales_rep_id is not None:
            return self._by_rep.setdefault(where.sales_rep_id, set())
        return self._unfiltered

    def _forget_index(self, where: EventFilter) -> None:
        if where.customer_id is not None:
            self._by_customer.pop(where.customer_id, None)
        elif where.sales_rep_id is not None:
            self._by_rep.pop(where.sales_rep_id, None)

    def _go_live(self) -> None:
        """The waiting subscribers, live from the (current) position."""
        waiting, self._waiting = self._waiting, set()
        for subscriber in waiting:
            subscriber.live_from = self.position
            self._index_of(subscriber.where).add(subscriber)
            self._offer(subscriber, FeedState.LIVE)

    @property
    def subscriber_count(self) -> int:
        return len(self._all)

    async def current_position(self) -> int:
        """The position, read up to the newest event first when the hub is idle
        (the events query, with nobody subscribed); StoreUnavailableError when
        the store cannot be read."""
        if not self._current:
            await self.poll()
        if self.position is None or self.pause_reason is not None:
            raise StoreUnavailableError((self.feed.source.value.lower(),))
        return self.position

    # -- polling ---------------------------------------------------------------

    async def run(self) -> None:
        """Polls while anyone is subscribed; idle, it waits for a subscriber."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._all:
                self._subscribed.clear()
                await self._subscribed.wait()
            began = loop.time()
            full = await self.poll()
            if not full:
                await asyncio.sleep(max(0.0, began + self.settings.poll_interval_s - loop.time()))

    async def poll(self) -> bool:
        """One read and its fan-out; True when the read was full (read again at once)."""
        async with self._reading:
            started = time.perf_counter()
            outcome = "ok"
            full = False
            try:
                full = await self._read_and_fan_out()
            except StoreFailedError as failure:
                outcome = failure.reason
                self._pause("STORE_UNAVAILABLE")
            except OverloadedError:
                # The pool was busy this time: not an outage, the next poll tries again.
                outcome = "overloaded"
            except Exception as error:
                # Logged by type and place (never the message) and visible to every
                # subscriber as a pause: the poller itself must outlive it.
                outcome = "error"
                log.error("feed poll failed: %s at %s", type(error).__name__, raised_at(error))
                self._pause("INTERNAL")
            self._observer.feed_polled(outcome=outcome, seconds=time.perf_counter() - started)
            return full

    async def _read_and_fan_out(self) -> bool:
        if self.position is None:
            self.position = await self.feed.newest_event_id()
            log.info("live feed starts after event %d", self.position)
        events = await self.feed.events_after(after=self.position, limit=POLL_BATCH)
        self._resume()
        released = self._sequencer.release(self.position, events)
        deliveries = sum(self._fan_out(event) for event in released.events)
        self.position = released.position
        if released.events or released.given_up:
            now = self._wall_clock()
            lags = [now - event.event.at.timestamp() for event in released.events]
            self._observer.feed_fanned_out(
                lags_s=lags, deliveries=deliveries, given_up=released.given_up
            )
        # A full read is followed by the next at once, unless a missing id holds
        # the rest back: then the next poll comes at its time.
        full = len(events) == POLL_BATCH and released.position == events[-1].id
        # Current once a read finds the end, and stays so while anyone listens.
        self._current = not full and bool(self._all or self._current)
        if not full:
            self._go_live()
        return full

    def _fan_out(self, feed_event: FeedEvent) -> int:
        delivery = Delivery(feed_event)
        event = feed_event.event
        targets = list(self._unfiltered)
        targets += self._by_customer.get(event.customer_id, ())
        for rep in {event.from_sales_rep_id, event.to_sales_rep_id, feed_event.sales_rep_id}:
            if rep is not None:
                targets += self._by_rep.get(rep, ())
        delivered = 0
        for subscriber in targets:
            if subscriber.where.matches(feed_event):
                self._offer(subscriber, delivery)
                delivered += 1
        return delivered

    def _offer(self, subscriber: Subscriber, item: HubItem) -> None:
        if not subscriber.offer(item):
            self.unsubscribe(subscriber)
            subscriber.end(dropped="slow")
            self._observer.feed_dropped("slow")
            subscriber.on_drop("slow")

    def _pause(self, reason: str) -> None:
        self._current = False
        if self.pause_reason is not None:
            return
        self.pause_reason = reason
        log.warning(
            "live feed paused (%s): subscribers told, position %s kept", reason, self.position
        )
        self._observer.feed_paused(True)
        self._broadcast(FeedState.PAUSED)

    def _resume(self) -> None:
        if self.pause_reason is None:
            return
        self.pause_reason = None
        log.info("live feed resumed after event %d", self.position)
        self._observer.feed_paused(False)
        self._broadcast(FeedState.LIVE)

    def _broadcast(self, state: FeedState) -> None:
        for subscriber in list(self._all):
            self._offer(subscriber, state)

    def end(self) -> None:
        """Ends every subscription (the server shuts down)."""
        for subscriber in list(self._all):
            self.unsubscribe(subscriber)
            subscriber.end()


@asynccontextmanager
async def running_hub(hub: FeedHub) -> AsyncIterator[FeedHub]:
    """The hub polling in a task of its own (while anyone subscribes) while the block runs."""
    task = asyncio.create_task(hub.run(), name="feed-hub")
    try:
        yield hub
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        hub.end()
