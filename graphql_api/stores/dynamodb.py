"""The DynamoDB store (aioboto3): the secondary store, read-only in this service.

Key schema: see dynamodb_items.py (and the README). Records by id come from
BatchGetItem, at most 100 keys a call, with UnprocessedKeys retried
(dynamodb_batch.py); lists come from a Query on an index, paginated. No Scan runs on a
request path. It implements StoreReader only: writes reach DynamoDB from the
primary through the outbox relay (sync/outbox.py), never from a mutation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from graphql_api.errors import StoreFailedError
from graphql_api.stores import dynamodb_items as items
from graphql_api.stores.dynamodb_batch import GET_LIMIT, chunks, get_batch
from graphql_api.stores.protocol import customers_then_reps
from graphql_api.stores.records import (
    CustomerEventRecord,
    CustomerFilter,
    CustomerRecord,
    CustomersAndReps,
    DataSource,
    Page,
    PageRequest,
    RepCustomersKey,
    SalesRepRecord,
)

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient
    from types_aiobotocore_dynamodb.type_defs import BatchGetItemOutputTypeDef

    from graphql_api.stores.dynamodb_items import Item

_T = TypeVar("_T")
_U = TypeVar("_U")
_RecordT = TypeVar("_RecordT")

_THROTTLED = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
_DENIED = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
    }
)
# A filtered page reads this many items a call, so a selective filter does not
# cost one round trip per matching item.
_FILTERED_READ_SIZE = 100


def failure_reason(error: Exception) -> str | None:
    """The store-failure category of a client error, or None for our own bug."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _THROTTLED:
            return "throttled"
        if code == "ResourceNotFoundException":
            return "table-missing"
        if code in _DENIED:
            return "access-denied"
        return "server-error" if status >= 500 else None
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return "timeout"
    if isinstance(error, EndpointConnectionError | ConnectionClosedError | HTTPClientError):
        return "connection"
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return "access-denied"
    if isinstance(error, OSError):
        return "connection"
    return None


@dataclass(slots=True)
class _Query:
    """One Query's expression parts; names and values are placeholders only."""

    index: str | None
    partition: tuple[str, str]
    after: tuple[str, str] | None = None
    begins_with: tuple[str, str] | None = None
    conditions: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def where(self, attribute: str, condition: str, value: str | None = None) -> None:
        """`condition` uses #a for the attribute and :v for the value."""
        name, placeholder = f"#f{len(self.names)}", f":f{len(self.names)}"
        self.names[name] = attribute
        if value is not None:
            self.values[placeholder] = {"S": value}
        self.conditions.append(condition.replace("#a", name).replace(":v", placeholder))

    def params(self, table: str, *, with_cursor: bool) -> dict[str, Any]:
        names = {**self.names, "#pk": self.partition[0]}
        values = {**self.values, ":pk": {"S": self.partition[1]}}
        key = "#pk = :pk"
        sort = self.after if with_cursor else None
        if sort is not None:
            names["#sk"], values[":sk"] = sort[0], {"S": sort[1]}
            key += " AND #sk > :sk"
        elif self.begins_with is not None:
            names["#sk"], values[":sk"] = self.begins_with[0], {"S": self.begins_with[1]}
            key += " AND begins_with(#sk, :sk)"
        params: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": key,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if self.index is not None:
            params["IndexName"] = self.index
        if self.conditions:
            params["FilterExpression"] = " AND ".join(self.conditions)
        return params


def _customer_filter(query: _Query, where: CustomerFilter) -> _Query:
    if where.status is not None:
        query.where("status", "#a = :v", where.status.value)
    for attribute, value in (
        ("country", where.country),
        ("state", where.state),
        ("city", where.city),
    ):
        if value is not None:
            query.where(attribute, "#a = :v", value)
    if where.unassigned is not None:
        test = "attribute_not_exists(#a)" if where.unassigned else "attribute_exists(#a)"
        query.where("sales_rep_id", test)
    if where.name_contains:
        query.where("name_lower", "contains(#a, :v)", where.name_contains.lower())
    return query


class DynamoDBStore:
    def __init__(
        self,
        client: DynamoDBClient,
        *,
        table: str,
        timeout_s: float,
        name: str = "dynamodb",
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._table = table
        self._timeout_s = timeout_s
        self._name = name
        self._sleep = sleep

    @property
    def source(self) -> DataSource:
        return DataSource.DYNAMODB

    async def _call(self, request: Awaitable[_T]) -> _T:
        """One DynamoDB call, bounded; failures become StoreFailedError with a
        category only (the client's message can hold keys and values)."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return await request
        except TimeoutError:
            raise StoreFailedError(self._name, "timeout") from None
        except (ClientError, BotoCoreError, OSError) as error:
            reason = failure_reason(error)
            if reason is None:
                raise
            raise StoreFailedError(self._name, reason) from None

    @staticmethod
    async def _all(requests: Iterable[Awaitable[_T]]) -> list[_T]:
        """Run concurrently; the first failure cancels the rest."""
        tasks = [asyncio.ensure_future(request) for request in requests]
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:
                task.cancel()

    @staticmethod
    async def _both(first: Awaitable[_T], second: Awaitable[_U]) -> tuple[_T, _U]:
        tasks = (asyncio.ensure_future(first), asyncio.ensure_future(second))
        try:
            return await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    async def ping(self) -> None:
        await self._call(self._client.describe_table(TableName=self._table))

    # -- by id ---------------------------------------------------------------

    async def _batch_get(self, keys: Sequence[Item]) -> list[Item]:
        async def send(request: dict[str, Any]) -> BatchGetItemOutputTypeDef:
            return await self._call(self._client.batch_get_item(RequestItems=request))

        found = await self._all(
            get_batch(send, table=self._table, keys=chunk, store=self._name, sleep=self._sleep)
            for chunk in chunks(keys, GET_LIMIT)
        )
        return [item for chunk in found for item in chunk]

    async def customers_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, CustomerRecord]:
        # BatchGetItem refuses a request that names the same key twice.
        found = await self._batch_get([items.customer_key(id) for id in dict.fromkeys(ids)])
        return {record.id: record for record in map(items.customer_record, found)}

    async def sales_reps_by_ids(self, *, ids: Sequence[str]) -> Mapping[str, SalesRepRecord]:
        found = await self._batch_get([items.sales_rep_key(id) for id in dict.fromkeys(ids)])
        return {record.id: record for record in map(items.sales_rep_record, found)}

    async def customers_and_reps_by_ids(self, *, ids: Sequence[str]) -> CustomersAndReps:
        # The rep's key is in the customer's item: a second BatchGetItem, not a join.
        return await customers_then_reps(self, ids)

    # -- lists ---------------------------------------------------------------

    async def _page(
        self, query: _Query, page: PageRequest, to_record: Callable[[Item], _RecordT]
    ) -> Page[_RecordT]:
        matching, total = await self._both(self._first_after(query, page), self._count(query))
        return Page(
            items=[to_record(item) for item in matching[: page.first]],
            has_next_page=len(matching) > page.first,
            total_count=total,
            has_previous_page=page.after is not None,
        )

    async def _first_after(self, query: _Query, page: PageRequest) -> list[Item]:
        """Up to first + 1 matching items after the cursor: one more tells of a next page."""
        wanted = page.first + 1
        params = query.params(self._table, with_cursor=True)
        found: list[Item] = []
        while True:
            limit = wanted - len(found)
            params["Limit"] = max(limit, _FILTERED_READ_SIZE) if query.conditions else limit
            response = await self._call(self._client.query(**params))
            found.extend(response["Items"])
            last = response.get("LastEvaluatedKey")
            if len(found) >= wanted or last is None:
                return found[:wanted]
            params["ExclusiveStartKey"] = last

    async def _count(self, query: _Query) -> int:
        """Matching items in the whole list (not just after the cursor)."""
        params = {**query.params(self._table, with_cursor=False), "Select": "COUNT"}
        total = 0
        while True:
            response = await self._call(self._client.query(**params))
            total += response["Count"]
            last = response.get("LastEvaluatedKey")
            if last is None:
                return total
            params["ExclusiveStartKey"] = last

    @staticmethod
    def _rep_customers_query(sales_rep_id: str, after: str | None) -> _Query:
        return _Query(
            index=items.BY_SALES_REP,
            partition=(items.GSI1PK, items.sales_rep_pk(sales_rep_id)),
            after=None if after is None else (items.GSI1SK, items.customer_pk(after)),
        )

    async def customers_by_sales_reps(
        self, *, keys: Sequence[RepCustomersKey]
    ) -> list[Page[CustomerRecord]]:
        unique = list(dict.fromkeys(keys))
        pages = await self._all(self._rep_customers(key) for key in unique)
        by_key = dict(zip(unique, pages, strict=True))
        return [by_key[key] for key in keys]

    async def _rep_customers(self, key: RepCustomersKey) -> Page[CustomerRecord]:
        query = self._rep_customers_query(key.sales_rep_id, key.page.after)
        return await self._page(
            _customer_filter(query, CustomerFilter(status=key.status)),
            key.page,
            items.customer_record,
        )

    async def customers_page(
        self, *, where: CustomerFilter, page: PageRequest
    ) -> Page[CustomerRecord]:
        if where.sales_rep_id is not None:
            query = self._rep_customers_query(where.sales_rep_id, page.after)
        else:
            query = _Query(
                index=items.BY_KIND,
                partition=(items.GSI2PK, items.CUSTOMER_KIND),
                after=None if page.after is None else (items.GSI2SK, page.after),
            )
        return await self._page(_customer_filter(query, where), page, items.customer_record)

    async def sales_reps_page(self, *, page: PageRequest) -> Page[SalesRepRecord]:
        query = _Query(
            index=items.BY_KIND,
            partition=(items.GSI2PK, items.SALES_REP_KIND),
            after=None if page.after is None else (items.GSI2SK, page.after),
        )
        return await self._page(query, page, items.sales_rep_record)

    async def events_by_customers(
        self, *, customer_ids: Sequence[str], first: int, details: bool = True
    ) -> Mapping[str, list[CustomerEventRecord]]:
        # A Query reads whole items (a projection would cost the same capacity).
        if first == 0:
            return {}
        unique = list(dict.fromkeys(customer_ids))
        found = await self._all(self._newest_events(id, first) for id in unique)
        return {id: events for id, events in zip(unique, found, strict=True) if events}

    async def _newest_events(self, customer_id: str, first: int) -> list[CustomerEventRecord]:
        query = _Query(
            index=None,
            partition=(items.PK, items.customer_pk(customer_id)),
            begins_with=(items.SK, items.EVENT_PREFIX),
        )
        params = {**query.params(self._table, with_cursor=False)}
        params.update(ScanIndexForward=False, Limit=first)
        response = await self._call(self._client.query(**params))
        return [items.event_record(item) for item in response["Items"]]
