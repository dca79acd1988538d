"""Bulk access to the DynamoDB table for the sync commands.

A Scan reads the whole table once, in segments when asked, in DynamoDB's own
pages; each item says which phase it belongs to (reps, customers, events). The
reps alone come from their partition of the `by_kind` index. Reads by key use
BatchGetItem (100 keys a call, UnprocessedKeys retried in
stores/dynamodb_batch.py); throttled or failed calls are retried with
full-jitter backoff, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from graphql_api.errors import StoreFailedError
from graphql_api.stores import dynamodb_items as items
from graphql_api.stores.backoff import full_jitter_delay
from graphql_api.stores.dynamodb import failure_reason
from graphql_api.stores.dynamodb_batch import GET_LIMIT, bounded_gather, chunks, get_batch
from graphql_api.stores.records import CustomerEventRecord, CustomerRecord, SalesRepRecord

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient
    from types_aiobotocore_dynamodb.type_defs import BatchGetItemOutputTypeDef

    from graphql_api.stores.dynamodb_items import Item

PHASES = ("sales_reps", "customers", "events")
_SALES_REP_PREFIX, _CUSTOMER_PREFIX = items.sales_rep_pk(""), items.customer_pk("")
_ATTEMPTS = 8
_RETRIED = frozenset({"throttled", "server-error", "timeout", "connection"})

AnyRecord = SalesRepRecord | CustomerRecord | CustomerEventRecord


def record_of(phase: str, item: Item) -> AnyRecord:
    """The record an item holds; KeyError or ValueError when it is malformed."""
    if phase == "sales_reps":
        return items.sales_rep_record(item)
    if phase == "customers":
        return items.customer_record(item)
    return items.event_record(item)


def item_of(record: AnyRecord) -> Item:
    if isinstance(record, SalesRepRecord):
        return items.sales_rep_item(record)
    if isinstance(record, CustomerRecord):
        return items.customer_item(record)
    return items.event_item(record)


def key_text(item: Item) -> str:
    return f"{item[items.PK]['S']}|{item[items.SK]['S']}"


async def _retrying(call: Callable[[], Awaitable[Any]], what: str) -> Any:
    """A call that throttling, a 5xx or the network may refuse (the store's own
    classification); retried with backoff, then given up. Anything else raises."""
    for attempt in range(_ATTEMPTS):
        try:
            return await call()
        except (ClientError, BotoCoreError, OSError) as error:
            if failure_reason(error) not in _RETRIED:
                raise
        await asyncio.sleep(full_jitter_delay(attempt, base_s=0.1, cap_s=3.0, draw=random.random()))
    raise StoreFailedError("dynamodb", f"{what} kept failing")


def kind_of(item: Item) -> str | None:
    """The phase an item belongs to (the record it holds), None for any other item."""
    sort_key = item[items.SK]["S"]
    if sort_key.startswith(items.EVENT_PREFIX):
        return "events"
    if sort_key != items.PROFILE:
        return None
    partition = item[items.PK]["S"]
    if partition.startswith(_SALES_REP_PREFIX):
        return "sales_reps"
    if partition.startswith(_CUSTOMER_PREFIX):
        return "customers"
    return None


def in_kind_index(item: Item) -> bool:
    """A rep the `by_kind` index lists (what a Query of its SALESREP partition returns)."""
    kind = item.get(items.GSI2PK, {}).get("S")
    return kind == items.SALES_REP_KIND and "S" in item.get(items.GSI2SK, {})


async def scan_pages(
    client: DynamoDBClient,
    *,
    table: str,
    segment: int,
    segments: int,
    start_key: str | None,
    limit: int | None,
) -> AsyncIterator[tuple[list[Item], str | None]]:
    """The pages of one segment of a Scan of the whole table: the items and the
    position after them (None at the end). Pages are DynamoDB's (1 MB) unless
    `limit` caps their items."""
    params: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if segments > 1:
        # Asked only when there are segments: a parallel scan costs more per call in
        # stores that place every item in a segment by hashing it (moto does).
        params |= {"Segment": segment, "TotalSegments": segments}
    if limit is not None:
        params["Limit"] = limit
    async for page in _pages(client.scan, params, start_key, "scan"):
        yield page


async def rep_pages(
    client: DynamoDBClient, *, start_key: str | None, limit: int | None, table: str
) -> AsyncIterator[tuple[list[Item], str | None]]:
    """Every sales rep, from the SALESREP partition of the `by_kind` index: the reps
    alone, without scanning the table (an index read is eventually consistent)."""
    params: dict[str, Any] = {
        "TableName": table,
        "IndexName": items.BY_KIND,
        "KeyConditionExpression": "#kind = :kind",
        "ExpressionAttributeNames": {"#kind": items.GSI2PK},
        "ExpressionAttributeValues": {":kind": {"S": items.SALES_REP_KIND}},
    }
    if limit is not None:
        params["Limit"] = limit
    async for page in _pages(client.query, params, start_key, "query"):
        yield page


async def _pages(
    call: Callable[..., Awaitable[Any]], params: dict[str, Any], start_key: str | None, what: str
) -> AsyncIterator[tuple[list[Item], str | None]]:
    exclusive_start = json.loads(start_key) if start_key else None
    while True:
        if exclusive_start:
            params["ExclusiveStartKey"] = exclusive_start
        response = await _retrying(functools.partial(call, **params), what)
        exclusive_start = response.get("LastEvaluatedKey")
        position = json.dumps(exclusive_start, sort_keys=True) if exclusive_start else None
        yield list(response.get("Items", [])), position
        if position is None:
            return


async def table_is_empty(client: DynamoDBClient, *, table: str) -> bool:
    """Whether the table holds no item at all (a consistent Scan of one item)."""
    scan = functools.partial(client.scan, TableName=table, Limit=1, ConsistentRead=True)
    response = await _retrying(scan, "scan")
    return not response.get("Items")


async def get_items(
    client: DynamoDBClient, *, table: str, keys: Sequence[Item], concurrency: int = 1
) -> list[Item]:
    """The items of `keys` that exist, GET_LIMIT keys a call, `concurrency` calls at a time."""

    async def send(request: dict[str, Any]) -> BatchGetItemOutputTypeDef:
        batch_get = functools.partial(client.batch_get_item, RequestItems=request)
        response: BatchGetItemOutputTypeDef = await _retrying(batch_get, "get")
        return response

    async def get(chunk: Sequence[Item]) -> list[Item]:
        return await get_batch(send, table=table, keys=chunk, consistent_read=True)

    found = await bounded_gather(get, chunks(keys, GET_LIMIT), concurrency=concurrency)
    return [item for items_found in found for item in items_found]


async def count_items(client: DynamoDBClient, *, table: str) -> int | None:
    """DynamoDB's item count (refreshed every few hours on AWS): good enough for an ETA."""
    try:
        description = await client.describe_table(TableName=table)
    except (ClientError, BotoCoreError):
        return None
    return int(description["Table"].get("ItemCount", 0)) or None
