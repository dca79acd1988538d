"""Live updates: the subscription to customer events, and the events query that
pages the same feed with the same cursors (README "Live updates")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.errors import FeedUnsupportedError, UserInputError
from graphql_api.feed.hub import Delivery, FeedState
from graphql_api.feed.pages import read_page
from graphql_api.feed.subscription import LiveSubscription, StateChange
from graphql_api.schema.arguments import id_argument
from graphql_api.schema.delivery_lane import DeliveryLane, current_lane
from graphql_api.schema.enums import CustomerEventKind, CustomerStatus
from graphql_api.schema.pagination import PageInfo, cursor_for, decode_cursor, page_size
from graphql_api.schema.shared_events import Executions
from graphql_api.stores.records import EventFilter, FeedEvent

# A position in the feed: every event up to it. Its own prefix, so another
# list's cursor is refused here and this one there.
EVENTS = "e1:"

strawberry.enum(
    FeedState,
    description="LIVE: events arrive as they happen. PAUSED: events cannot be read now"
    " (the store is down); none is lost, they follow once the feed is LIVE again.",
)


def event_cursor(position: int) -> str:
    return cursor_for(EVENTS, str(position))


def event_position(cursor: str) -> int:
    digits = decode_cursor(cursor, EVENTS)
    if not (digits.isascii() and digits.isdigit()):
        raise UserInputError("after", "after is not a cursor this API issued for this list")
    return int(digits)


def event_filter(customer_id: str | None, sales_rep_id: str | None) -> EventFilter:
    return EventFilter(
        customer_id=None if customer_id is None else id_argument("customerId", customer_id),
        sales_rep_id=None if sales_rep_id is None else id_argument("salesRepId", sales_rep_id),
    )


@strawberry.type(description="A change to a customer, as the feed of events delivers it.")
class CustomerFeedEvent:
    cursor: str = strawberry.field(description="Resume a subscription, or page, after this event.")
    customer_id: strawberry.ID
    kind: CustomerEventKind
    at: datetime
    actor: str | None = strawberry.field(description="Who made the change.")
    note: str | None
    from_status: CustomerStatus | None
    to_status: CustomerStatus | None
    from_sales_rep_id: strawberry.ID | None
    to_sales_rep_id: strawberry.ID | None
    sales_rep_id: strawberry.ID | None = strawberry.field(
        description="The customer's rep as of this event (after it, for a move)."
    )
    # This message's executions, shared by its subscribers (schema/shared_events.py).
    executions: strawberry.Private[Executions]

    @classmethod
    def from_feed(cls, feed_event: FeedEvent) -> CustomerFeedEvent:
        event = feed_event.event
        return cls(
            executions={},
            cursor=event_cursor(event.id),
            customer_id=strawberry.ID(event.customer_id),
            kind=event.kind,
            at=event.at,
            actor=event.actor,
            note=event.note,
            from_status=event.from_status,
            to_status=event.to_status,
            from_sales_rep_id=_id_or_none(event.from_sales_rep_id),
            to_sales_rep_id=_id_or_none(event.to_sales_rep_id),
            sales_rep_id=_id_or_none(feed_event.sales_rep_id),
        )


def _id_or_none(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


@strawberry.type(description="The feed went LIVE (caught up, or back after a pause) or PAUSED.")
class CustomerFeedStatus:
    state: FeedState
    resume_after: str | None = strawberry.field(
        description="A cursor: every event up to here was delivered or did not match; pass"
        " it as `after` to resume. Null while the feed has not read its position yet."
    )
    reason: str | None = strawberry.field(description="Why it paused: STORE_UNAVAILABLE.")

    @classmethod
    def from_change(cls, change: StateChange) -> CustomerFeedStatus:
        position = change.position
        resume_after = None if position is None else event_cursor(position)
        return cls(state=change.state, resume_after=resume_after, reason=change.reason)


CustomerFeedMessage = Annotated[
    CustomerFeedEvent | CustomerFeedStatus, strawberry.union("CustomerFeedMessage")
]


@strawberry.type(description="A page of the feed of events, oldest first.")
class CustomerEventFeed:
    nodes: list[CustomerFeedEvent]
    page_info: PageInfo = strawberry.field(
        description="endCursor is where the next page starts, also when this one is empty:"
        " poll again with it for what came since."
    )


async def customer_events_page(
    info: Info,
    customer_id: strawberry.ID | None = None,
    sales_rep_id: strawberry.ID | None = None,
    first: int | None = 50,
    after: str | None = None,
) -> CustomerEventFeed:
    context = info.context
    page = await read_page(
        context.feed_hub,
        context.store_usage,
        where=event_filter(customer_id, sales_rep_id),
        after=0 if after is None else event_position(after),
        first=page_size(first, max_page_size=context.settings.max_page_size),
    )
    nodes = [CustomerFeedEvent.from_feed(event) for event in page.events]
    return CustomerEventFeed(
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
            start_cursor=nodes[0].cursor if nodes else None,
            end_cursor=event_cursor(page.end),
        ),
    )


async def _messages(
    subscription: LiveSubscription, lane: DeliveryLane | None
) -> AsyncIterator[CustomerFeedMessage]:
    try:
        async for item in subscription:
            if isinstance(item, StateChange):
                yield CustomerFeedStatus.from_change(item)
            elif lane is None or not await lane.send_written(item):
                yield _shared_message(item)
    finally:
        await subscription.aclose()


def _shared_message(delivery: Delivery) -> CustomerFeedEvent:
    """The event's message, one object for every subscriber it goes to."""
    message = delivery.memo.get(CustomerFeedEvent)
    if not isinstance(message, CustomerFeedEvent):
        message = delivery.memo[CustomerFeedEvent] = CustomerFeedEvent.from_feed(delivery.event)
    return message


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Changes to one customer (customerId), to the customers of one rep"
        " (salesRepId), or to all (neither), as they happen. With `after` (a cursor of an"
        " event or a status), first what came since, then live. Over graphql-transport-ws."
    )
    async def customer_events(
        self,
        info: Info,
        customer_id: strawberry.ID | None = None,
        sales_rep_id: strawberry.ID | None = None,
        after: str | None = None,
    ) -> AsyncIterator[CustomerFeedMessage]:
        live = info.context.live
        if live is None:
            raise FeedUnsupportedError(
                "Subscriptions run over a websocket at /graphql (graphql-transport-ws)."
            )
        where = event_filter(customer_id, sales_rep_id)
        position = None if after is None else event_position(after)
        return _messages(await live.open(where, after=position), current_lane.get())
