"""The Lambda handlers, invoked in-process with API Gateway v2 events and a scheduled event."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file

from devstack.env import dynamodb_env, mysql_env
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from graphql_api.admin import dynamodb_table
from graphql_api.aws_lambda import ApiHandler, OutboxDrain
from graphql_api.resources import dynamodb_client
from graphql_api.settings import dynamodb_settings
from graphql_api.stores.demo import demo_data

PAGE = "{ customers(first: 100) { nodes { id name email phone address city } } }"
ASSIGN = """
mutation { assignCustomer(input: {customerId: "C-00002", salesRepId: "SR-001"}) {
  __typename ... on Customer { version } } }
"""
SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event"}


def http_event(
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API event, payload format 2.0, as Lambda receives it."""
    path, _, query = path.partition("?")
    text = json.dumps(body) if body is not None else None
    if text is not None and base64_body:
        text = base64.b64encode(text.encode()).decode()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "host": "api.example.com",
            "content-type": "application/json",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "test",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": "02/Dec/2026:07:00:00 +0000",
            "timeEpoch": 1_796_000_000_000,
        },
        **({"body": text, "isBase64Encoded": base64_body} if text is not None else {}),
    }


def _json(answer: dict[str, Any]) -> Any:
    body = answer["body"]
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body)
    return json.loads(body)


@pytest.fixture(scope="module")
def memory_handler() -> Iterator[ApiHandler]:
    handler = ApiHandler(env={})
    try:
        yield handler
    finally:
        handler.close()


@pytest.mark.parametrize("base64_body", [False, True], ids=["text-body", "base64-body"])
def test_a_graphql_post_is_answered(memory_handler: ApiHandler, base64_body: bool) -> None:
    query = {"query": '{ customer(id: "C-00001") { id source } }'}
    event = http_event("POST", "/graphql", body=query, base64_body=base64_body)
    answer = memory_handler(event, None)
    assert answer["statusCode"] == 200
    assert answer["headers"]["cache-control"] == "no-store"
    assert answer["headers"]["x-request-id"]
    assert _json(answer)["data"] == {"customer": {"id": "C-00001", "source": "MEMORY"}}


def test_the_old_rest_routes_are_answered_with_their_status(memory_handler: ApiHandler) -> None:
    found = memory_handler(http_event("GET", "/customers/C-00002"), None)
    assert (found["statusCode"], found["headers"]["etag"]) == (200, '"2"')
    assert _json(found)["customer"]["id"] == "C-00002"
    missing = memory_handler(http_event("GET", "/customers/C-99999"), None)
    assert missing["statusCode"] == 404
    assert _json(missing)["code"] == "NOT_FOUND"
    page = memory_handler(http_event("GET", "/salesreps/SR-001/customers?limit=2"), None)
    assert len(_json(page)["customers"]) == 2


def test_a_compressed_answer_goes_back_as_base64(memory_handler: ApiHandler) -> None:
    event = http_event(
        "POST", "/graphql", body={"query": PAGE}, headers={"accept-encoding": "gzip"}
    )
    answer = memory_handler(event, None)
    assert (answer["headers"]["content-encoding"], answer["isBase64Encoded"]) == ("gzip", True)
    body = json.loads(gzip.decompress(base64.b64decode(answer["body"])))
    assert len(body["data"]["customers"]["nodes"]) == 100


def _fresh_table(moto: MotoServer) -> dict[str, str]:
    """A table of its own, with the demo rows: the session's is read-only for tests."""
    env = dynamodb_env(moto, DYNAMODB_TABLE=f"lambda-{uuid.uuid4().hex[:8]}")

    async def create() -> None:
        settings = dynamodb_settings(env)
        async with dynamodb_client(settings) as client:
            await dynamodb_table.create_table(client, table=settings.table)
            await dynamodb_table.put_items(
                client, table=settings.table, rows=dynamodb_table.demo_items(demo_data())
            )

    asyncio.run(create())
    return env


def _dynamodb_version(env: dict[str, str], customer_id: str) -> int:
    async def read() -> int:
        settings = dynamodb_settings(env)
        async with dynamodb_client(settings) as client:
            item = await client.get_item(
                TableName=settings.table,
                Key={"pk": {"S": f"CUSTOMER#{customer_id}"}, "sk": {"S": "PROFILE"}},
            )
        return int(item["Item"]["version"]["N"])

    return asyncio.run(read())


def test_writes_wait_in_the_outbox_until_the_scheduled_drain_delivers_them(
    seeded_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    env = {**_fresh_table(moto), **mysql_env(seeded_mariadb)}
    handler = ApiHandler(env=env)
    try:
        first = handler(http_event("POST", "/graphql", body={"query": ASSIGN}), None)
        resources = handler_resources(handler)
        second = handler(http_event("GET", "/customers/C-00002"), None)
        # One app, one pool for the environment's life, not one per event.
        assert handler_resources(handler) is resources
    finally:
        handler.close()
    assert _json(first)["data"]["assignCustomer"] == {"__typename": "Customer", "version": 3}
    assert _json(second)["customer"]["version"] == 3
    # No relay runs in Lambda: DynamoDB still has the version before the write.
    assert _dynamodb_version(env, "C-00002") == 2
    assert OutboxDrain(env=env)(SCHEDULED, None) == {"delivered": 1, "left": 0}
    assert _dynamodb_version(env, "C-00002") == 3
    assert OutboxDrain(env=env)(SCHEDULED, None) == {"delivered": 0, "left": 0}


def handler_resources(handler: ApiHandler) -> object:
    assert handler.app is not None
    return handler.app.state.resources


def test_the_sam_template_is_valid_and_names_the_handlers(repo_root: Path) -> None:
    template = repo_root / "deploy" / "aws-lambda" / "template.yaml"
    text = template.read_text()
    assert "Handler: graphql_api.aws_lambda.handler" in text
    assert "Handler: graphql_api.aws_lambda.drain" in text
    assert [str(problem) for problem in lint_file(template)] == []
