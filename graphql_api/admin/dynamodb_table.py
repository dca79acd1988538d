"""`graphql-api dynamodb create-table` and `load-demo`: the table and its demo rows.

Not on a request path. The key schema lives in stores/dynamodb_items.py; an
existing table with other keys is reported, never used: the old service once
broke on exactly such a composite-key mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from graphql_api.errors import GraphqlApiError
from graphql_api.stores import dynamodb_items as items
from graphql_api.stores.demo import DemoData

# `load-demo` writes demo_items with the stores' batch writer.
from graphql_api.stores.dynamodb_batch import put_items as put_items

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

    from graphql_api.stores.dynamodb_items import Item


class TableSchemaError(GraphqlApiError):
    """The table exists but its keys or indexes are not the ones this service uses."""

    def __init__(self, table: str, problem: str) -> None:
        super().__init__(f"table {table!r}: {problem}")
        self.table = table
        self.problem = problem


def _key_schema(keys: dict[str, str]) -> list[Any]:
    return [{"AttributeName": name, "KeyType": kind} for name, kind in keys.items()]


def _table_definition(table: str) -> dict[str, Any]:
    attributes = [items.PK, items.SK, items.GSI1PK, items.GSI1SK, items.GSI2PK, items.GSI2SK]
    return {
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in attributes
        ],
        "KeySchema": _key_schema(items.KEY_SCHEMA),
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": _key_schema(keys),
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, keys in items.INDEXES.items()
        ],
    }


def _keys_of(schema: Sequence[Any]) -> dict[str, str]:
    return {element["AttributeName"]: element["KeyType"] for element in schema}


async def _check_existing(client: DynamoDBClient, table: str) -> None:
    description = (await client.describe_table(TableName=table))["Table"]
    if _keys_of(description.get("KeySchema", [])) != items.KEY_SCHEMA:
        raise TableSchemaError(table, f"primary key is not {items.KEY_SCHEMA}")
    indexes = {
        index["IndexName"]: _keys_of(index["KeySchema"])
        for index in description.get("GlobalSecondaryIndexes", [])
    }
    for name, keys in items.INDEXES.items():
        if indexes.get(name) != keys:
            raise TableSchemaError(table, f"index {name!r} is missing or not keyed {keys}")


async def create_table(client: DynamoDBClient, *, table: str) -> bool:
    """Create the table and wait until it is active. Idempotent: False when it
    already existed with the right keys; TableSchemaError when its keys differ."""
    try:
        await client.create_table(**_table_definition(table))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
        await _check_existing(client, table)
        return False
    waiter = client.get_waiter("table_exists")
    await waiter.wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return True


def demo_items(data: DemoData) -> list[Item]:
    return [
        *(items.sales_rep_item(rep) for rep in data.sales_reps),
        *(items.customer_item(customer) for customer in data.customers),
        *(items.event_item(event) for event in data.events),
    ]
