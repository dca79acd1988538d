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

_CURSOR_PREFIX = "v1:"


def encode_cursor(item_id: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + item_id).encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        decoded = ""
    item_id = decoded.removeprefix(_CURSOR_PREFIX)
    if not decoded.startswith(_CURSOR_PREFIX) or not 0 < len(item_id) <= ID_MAX_LENGTH:
        raise UserInputError("after", "after is not a cursor this API issued")
    return item_id


DEFAULT_PAGE_SIZE = 50


def page_size(first: int | None, *, max_page_size: int) -> int:
    """`first`, checked; null means the default. Too large is an error, never a silent cut."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 0 <= first <= max_page_size:
        raise UserInputError("first", f"first must be between 0 and {max_page_size}, got {first}")
    return first


def page_request(*, first: int | None, after: str | None, max_page_size: int) -> PageRequest:
    return PageRequest(
        first=page_size(first, max_page_size=max_page_size),
        after=None if after is None else decode_cursor(after),
    )


def requested_page(info: Info, *, first: int | None, after: str | None) -> PageRequest:
    """The page a list field's arguments ask for, within the configured cap."""
    return page_request(first=first, after=after, max_page_size=info.context.settings.max_page_size)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


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
    cursors = [encode_cursor(record.id) for record in page.items]
    return Connection(
        edges=[Edge(cursor=cursor, node=node) for cursor, node in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next_page, end_cursor=cursors[-1] if cursors else None
        ),
        total_count=page.total_count,
    )
