"""Cursor pagination over a stable id order: opaque cursors and page arguments."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from graphql_api.context import Info
from graphql_api.errors import UserInputError
from graphql_api.stores.records import CustomerRecord, Page, PageRequest, SalesRepRecord
from graphql_api.validation import ID_MAX_LENGTH

# What list a cursor is a position in: its prefix, inside the base64. Customers
# keep the first format's "v1:" (cursors clients already hold stay good); sales
# reps have their own, so a cursor of one list is refused by the other.
CUSTOMERS = "v1:"
SALES_REPS = "r1:"
_LIST_OF: dict[type, str] = {CustomerRecord: CUSTOMERS, SalesRepRecord: SALES_REPS}


def cursor_for(list_of: str, item_id: str) -> str:
    """The cursor just after the item `item_id` of the list `list_of`."""
    return base64.urlsafe_b64encode((list_of + item_id).encode()).decode()


def encode_cursor(record: CustomerRecord | SalesRepRecord) -> str:
    """The cursor just after `record` in its list."""
    return cursor_for(_LIST_OF[type(record)], record.id)


def decode_cursor(cursor: str, list_of: str) -> str:
    """The id a cursor of the list `list_of` (CUSTOMERS, SALES_REPS) points after."""
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        decoded = ""
    item_id = decoded.removeprefix(list_of)
    if not decoded.startswith(list_of) or not 0 < len(item_id) <= ID_MAX_LENGTH:
        raise UserInputError("after", "after is not a cursor this API issued for this list")
    return item_id


DEFAULT_PAGE_SIZE = 50


def page_size(first: int | None, *, max_page_size: int) -> int:
    """`first`, checked; null means the default. Too large is an error, never a silent cut."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= max_page_size:
        raise UserInputError("first", f"first must be between 0 and {max_page_size}, got {first}")
    return first


def page_request(
    *, first: int | None, after: str | None, max_page_size: int, list_of: str
) -> PageRequest:
    return PageRequest(
        first=page_size(first, max_page_size=max_page_size),
        after=None if after is None else decode_cursor(after, list_of),
    )


def requested_page(
    info: Info, *, first: int | None, after: str | None, list_of: str
) -> PageRequest:
    """The page a list field's arguments ask for, within the configured cap."""
    return page_request(
        first=first,
        after=after,
        max_page_size=info.context.settings.max_page_size,
        list_of=list_of,
    )


@strawberry.type(description="Where a page sits in its list (Relay's PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Items come before this page: it starts after a cursor (`after`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first item; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item, for `after`; null when the page is empty."
    )


NodeT = TypeVar("NodeT")
RecordT = TypeVar("RecordT", CustomerRecord, SalesRepRecord)


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type(description="One page of a list in a stable id order.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    nodes: list[NodeT]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Items in the whole list, not this page.")


def connection(page: Page[RecordT], to_node: Callable[[RecordT], NodeT]) -> Connection[NodeT]:
    nodes = [to_node(record) for record in page.items]
    cursors = [encode_cursor(record) for record in page.items]
    return Connection(
        edges=[Edge(cursor=cursor, node=node) for cursor, node in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=page.total_count,
    )
