"""The feed's rules, written once for the stores that read them in Python.

A rep's feed holds the events that move a customer to or from the rep and the
events of customers the rep looks after *as of the event*
(records.EventFilter.matches). "As of the event" is read from the history
itself, so a resumed subscription and the events query see the same events as
a subscriber that never left: the rep set by the newest rep-setting event up
to it (CREATED, ASSIGNED, UNASSIGNED); when the history holds none before it
(rows from before the audit trail), the rep the first later move moved the
customer from; when it holds none at all, the customer's rep now.
stores/mysql_feed.py says the same in SQL; tests/test_feed_stores.py holds
the two to each other.

A rep's page cannot use an index for "as of": it looks at REP_PAGE_SCAN event
positions at most and may hold fewer than `first` events; its end says where
the next page starts.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql_api.stores.records import (
    REP_SETTING_EVENT_KINDS,
    CustomerEventRecord,
    EventFilter,
    FeedEvent,
    FeedPage,
)

# Event positions a rep's page looks at, at most.
REP_PAGE_SCAN = 2_000


def reps_as_of(history: Sequence[CustomerEventRecord], current_rep: str | None) -> list[str | None]:
    """The customer's rep as of each of its events; `history` is the customer's
    events in id order, `current_rep` its rep now."""
    first_move = next((e for e in history if e.kind in REP_SETTING_EVENT_KINDS), None)
    rep = current_rep if first_move is None else first_move.from_sales_rep_id
    reps: list[str | None] = []
    for event in history:
        if event.kind in REP_SETTING_EVENT_KINDS:
            rep = event.to_sales_rep_id
        reps.append(rep)
    return reps


def scan_end(where: EventFilter, *, after: int, until: int) -> int:
    """The last position a page after `after` looks at: `until`, or for a rep's
    page at most REP_PAGE_SCAN positions on."""
    if where.sales_rep_id is not None and where.customer_id is None:
        return min(until, after + REP_PAGE_SCAN)
    return until


def page_from(
    matching: Sequence[FeedEvent], *, after: int, first: int, end: int, until: int
) -> FeedPage:
    """The page of `matching`, the events after `after` up to `end` (scan_end's)
    that the filter holds, in id order: at most first + 1 of them are needed."""
    if len(matching) > first:
        last = matching[first - 1].id if first else after
        return FeedPage(events=list(matching[:first]), end=last, has_next_page=True)
    return FeedPage(events=list(matching), end=max(end, after), has_next_page=end < until)


def page_of(
    events: Sequence[FeedEvent], *, where: EventFilter, after: int, until: int, first: int
) -> FeedPage:
    """A page from `events` (every event, in id order)."""
    end = scan_end(where, after=after, until=until)
    matching = [e for e in events if after < e.id <= end and where.matches(e)][: first + 1]
    return page_from(matching, after=after, first=first, end=end, until=until)
