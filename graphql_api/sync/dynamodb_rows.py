"""Bulk access to the DynamoDB table for the sync commands.

Scans are parallel and segmented and filtered per phase (reps, customers,
events), so a migration can write parents before children. Reads by key use
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
from graphql_api.stores.dynamodb_batch import GET_LIMIT, chunks, get_batch
from graphql_api.stores.records import CustomerEventRecord, CustomerRecord, SalesRepRecord

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient
    from types_aiobotocore_dynamodb.type_defs import BatchGetItemOutputTypeDef

    from graphql_api.stores.dynamodb_items import Item

PHASES = ("sales_reps", "customers", "events")
_ATTEMPTS = 8
_RETRIED = frozenset({"throttled", "server-error", "timeout", "connection"})

AnyRecord = SalesRepRecord | CustomerRecord | CustomerEventRecord


def _phase_filter(phase: str) -> dict[str, Any]:
    if phase == "events":
        return {
            "FilterExpression": "begins_with(#sk, :event)",
            "ExpressionAttributeNames": {"#sk": items.SK},
            "ExpressionAttributeValues": {":event": {"S": items.EVENT_PREFIX}},
        }
    prefix = "SALESREP#" if phase == "sales_reps" else "CUSTOMER#"
    return {
        "FilterExpression": "begins_with(#pk, :prefix) AND #sk = :profile",
        "ExpressionAttributeNames": {"#pk": items.PK, "#sk": items.SK},
        "ExpressionAttributeValues": {
            ":prefix": {"S": prefix},
            ":profile": {"S": items.PROFILE},
        },
    }


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


async def scan_pages(
    client: DynamoDBClient,
    *,
    table: str,
    phase: str,
    segment: int,
    segments: int,
    start_key: str | None,
    page_size: int,
) -> AsyncIterator[tuple[list[Item], str | None]]:
    """Pages of one segment: the items and the position after them (None at the end)."""
    exclusive_start = json.loads(start_key) if start_key else None
    while True:
        params: dict[str, Any] = {
            "TableName": table,
            "Segment": segment,
            "TotalSegments": segments,
            "Limit": page_size,
            "ConsistentRead": True,
            **_phase_filter(phase),
        }
        if exclusive_start:
            params["ExclusiveStartKey"] = exclusive_start
        response = await _retrying(functools.partial(client.scan, **params), "scan")
        exclusive_start = response.get("LastEvaluatedKey")
        position = json.dumps(exclusive_start, sort_keys=True) if exclusive_start else None
        yield list(response.get("Items", [])), position
        if position is None:
            return


async def get_items(client: DynamoDBClient, *, table: str, keys: Sequence[Item]) -> list[Item]:
    async def send(request: dict[str, Any]) -> BatchGetItemOutputTypeDef:
        batch_get = functools.partial(client.batch_get_item, RequestItems=request)
        response: BatchGetItemOutputTypeDef = await _retrying(batch_get, "get")
        return response

    found: list[Item] = []
    for chunk in chunks(keys, GET_LIMIT):
        found += await get_batch(send, table=table, keys=chunk, consistent_read=True)
    return found


async def count_items(client: DynamoDBClient, *, table: str) -> int | None:
    """DynamoDB's item count (refreshed every few hours on AWS): good enough for an ETA."""
    try:
        description = await client.describe_table(TableName=table)
    except (ClientError, BotoCoreError):
        return None
    return int(description["Table"].get("ItemCount", 0)) or None
