"""The DynamoDB table as an operator makes it, and what only its key schema decides."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from devstack.env import dynamodb_env
from devstack.moto_server import MotoServer
from graphql_api.resources import dynamodb_client
from graphql_api.settings import dynamodb_settings
from graphql_api.stores import dynamodb_items
from graphql_api.stores.demo import demo_data
from tests.utils.api import Api
from tests.utils.cli import graphql_api

DEMO = demo_data()


def table_env(moto: MotoServer, table: str) -> dict[str, str]:
    return dynamodb_env(moto, DYNAMODB_TABLE=table)


async def _count_items(env: dict[str, str]) -> int:
    settings = dynamodb_settings(env)
    total = 0
    async with dynamodb_client(settings) as client:
        # Scan is fine here: this is a test's check of the whole table, not a request path.
        paginator = client.get_paginator("scan")
        async for page in paginator.paginate(TableName=settings.table, Select="COUNT"):
            total += page["Count"]
    return total


def test_create_table_is_idempotent_and_load_demo_writes_every_row(moto: MotoServer) -> None:
    env = table_env(moto, "cli-made")
    first = graphql_api("dynamodb", "create-table", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "table cli-made: created"
    again = graphql_api("dynamodb", "create-table", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "table cli-made: already exists"

    loaded = graphql_api("dynamodb", "load-demo", env=env)
    assert loaded.returncode == 0, loaded.stderr
    expected = len(DEMO.sales_reps) + len(DEMO.customers) + len(DEMO.events)
    assert loaded.stdout.strip() == f"table cli-made: wrote {expected} demo items"
    assert asyncio.run(_count_items(env)) == expected


async def _create_wrong_table(env: dict[str, str]) -> None:
    settings = dynamodb_settings(env)
    async with dynamodb_client(settings) as client:
        await client.create_table(
            TableName=settings.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )


def test_create_table_refuses_an_existing_table_with_other_keys(moto: MotoServer) -> None:
    env = table_env(moto, "wrong-keys")
    asyncio.run(_create_wrong_table(env))
    result = graphql_api("dynamodb", "create-table", env=env)
    assert result.returncode == 1
    assert "table 'wrong-keys': primary key is not" in result.stderr
    assert "Traceback" not in result.stderr


def test_dynamodb_commands_name_a_missing_setting() -> None:
    result = graphql_api("dynamodb", "create-table", env={"AWS_REGION": "us-east-1"})
    assert result.returncode == 1
    assert "DYNAMODB_TABLE" in result.stderr


def test_event_sort_keys_sort_like_event_ids() -> None:
    ids = [1, 9, 10, 99, 100, 12345678901]
    keys = [dynamodb_items.event_sk(event_id) for event_id in ids]
    assert sorted(keys) == keys


@pytest.mark.read_only
# 150 aliases: ten times the default limit on a query, raised for this one.
@pytest.mark.api_env(GRAPHQL_API_MAX_ALIASES="150")
def test_more_customers_by_id_than_one_batch_call_takes(api: Api) -> None:
    # 150 distinct ids in one loader batch: DynamoDB needs two BatchGetItem calls.
    wanted = DEMO.customers[:150]
    fields = " ".join(f'c{n}: customer(id: "{c.id}") {{ id source }}' for n, c in enumerate(wanted))
    data: dict[str, Any] = api.data(f"{{ {fields} }}")
    assert [data[f"c{n}"]["id"] for n in range(len(wanted))] == [c.id for c in wanted]
    assert {data[f"c{n}"]["source"] for n in range(len(wanted))} == {api.source}
