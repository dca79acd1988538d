"""BatchGetItem and BatchWriteItem, with what DynamoDB left unprocessed retried.

DynamoDB may answer a batch in part (throttling, size limits) and hand back
the rest as UnprocessedKeys or UnprocessedItems. Every batch caller (the
store's reads by id, the outbox relay, the migrations, `dynamodb load-demo`)
retries that rest here, with one set of constants: up to eight sends with
full-jitter backoff between them, capped at one second, so a request path
waits at most a few seconds before the read counts as throttled.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from graphql_api.errors import StoreFailedError
from graphql_api.stores.backoff import full_jitter_delay

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient
    from types_aiobotocore_dynamodb.type_defs import BatchGetItemOutputTypeDef

    from graphql_api.stores.dynamodb_items import Item

    # Sends one BatchGetItem's RequestItems (through the caller's own error handling).
    SendBatchGet = Callable[[dict[str, Any]], Awaitable[BatchGetItemOutputTypeDef]]

GET_LIMIT = 100
WRITE_LIMIT = 25
UNPROCESSED_ATTEMPTS = 8
_BACKOFF_BASE_S = 0.05
_BACKOFF_CAP_S = 1.0

_T = TypeVar("_T")
_R = TypeVar("_R")
Sleep = Callable[[float], Awaitable[None]]


def chunks(values: Sequence[_T], size: int) -> list[Sequence[_T]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


async def _until_processed(
    send: Callable[[list[_T]], Awaitable[list[_T]]],
    requests: list[_T],
    *,
    store: str,
    sleep: Sleep,
) -> None:
    """`send` sends what is pending and returns what came back unprocessed."""
    pending = requests
    for retry in range(UNPROCESSED_ATTEMPTS):
        pending = await send(pending)
        if not pending:
            return
        if retry + 1 < UNPROCESSED_ATTEMPTS:
            delay = full_jitter_delay(
                retry, base_s=_BACKOFF_BASE_S, cap_s=_BACKOFF_CAP_S, draw=random.random()
            )
            await sleep(delay)
    raise StoreFailedError(store, "throttled")


async def get_batch(
    send: SendBatchGet,
    *,
    table: str,
    keys: Sequence[Item],
    consistent_read: bool = False,
    store: str = "dynamodb",
    sleep: Sleep = asyncio.sleep,
) -> list[Item]:
    """The items of up to GET_LIMIT keys; StoreFailedError "throttled" if some stay unread."""
    found: list[Item] = []

    async def send_keys(pending: list[Item]) -> list[Item]:
        response = await send({table: {"Keys": pending, "ConsistentRead": consistent_read}})
        found.extend(response.get("Responses", {}).get(table, []))
        unprocessed = response.get("UnprocessedKeys", {}).get(table)
        return list(unprocessed["Keys"]) if unprocessed else []

    await _until_processed(send_keys, list(keys), store=store, sleep=sleep)
    return found


async def put_items(
    client: DynamoDBClient, *, table: str, rows: Sequence[Item], concurrency: int = 1
) -> int:
    """BatchWriteItem, WRITE_LIMIT items a call, up to `concurrency` calls at a time
    (so the store works on one while the next is sent); returns how many were written."""

    async def send_puts(pending: list[Any]) -> list[Any]:
        response = await client.batch_write_item(RequestItems={table: pending})
        return list(response.get("UnprocessedItems", {}).get(table, []))

    async def put(batch: Sequence[Item]) -> None:
        puts = [{"PutRequest": {"Item": item}} for item in batch]
        await _until_processed(send_puts, puts, store="dynamodb", sleep=asyncio.sleep)

    await bounded_gather(put, chunks(rows, WRITE_LIMIT), concurrency=concurrency)
    return len(rows)


async def bounded_gather(
    call: Callable[[_T], Awaitable[_R]], arguments: Sequence[_T], *, concurrency: int
) -> list[_R]:
    """`call` on every argument, at most `concurrency` at a time; results in order.
    The first failure cancels the calls still running and is raised."""
    gate = asyncio.Semaphore(concurrency)

    async def bounded(argument: _T) -> _R:
        async with gate:
            return await call(argument)

    tasks = [asyncio.ensure_future(bounded(argument)) for argument in arguments]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
