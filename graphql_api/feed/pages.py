"""The events query's pages: the feed's own store, up to the hub's position.

A page never reaches past the position the process's live feed has passed, so
it holds no event whose neighbours below it have not committed yet
(sequencer.py), and a page's cursor can resume a subscription and the other
way round.
"""

from __future__ import annotations

from graphql_api.errors import FeedUnsupportedError, StoreFailedError, StoreUnavailableError
from graphql_api.feed.hub import FeedHub
from graphql_api.feed.subscription import NO_FEED
from graphql_api.stores.records import EventFilter, FeedPage
from graphql_api.stores.usage import StoreUsage


async def read_page(
    hub: FeedHub | None, usage: StoreUsage, *, where: EventFilter, after: int, first: int
) -> FeedPage:
    """The page, its store noted in `usage` like any read's."""
    if hub is None:
        raise FeedUnsupportedError(NO_FEED)
    try:
        until = await hub.current_position()
        page = await hub.feed.feed_page(where=where, after=after, until=until, first=first)
    except (StoreFailedError, StoreUnavailableError):
        usage.unanswered()
        raise StoreUnavailableError((hub.feed.source.value.lower(),)) from None
    usage.served(hub.feed.source, by_fallback=False)
    return page
