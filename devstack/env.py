"""Settings for an app (or a `graphql-api` command) that uses the dev servers.

`mysql_env(server)` and `dynamodb_env(moto)` build the environment variables a
deployment would set; `serve(env)` runs the app on a free port with them.
"""

from __future__ import annotations

import asyncio

from devstack.app_server import AppServer
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from graphql_api.admin import dynamodb_table
from graphql_api.app import create_app
from graphql_api.resources import dynamodb_client
from graphql_api.settings import dynamodb_settings, load_settings
from graphql_api.stores.demo import demo_data


def mysql_env(server: MariaDBServer, **extra: str) -> dict[str, str]:
    return {
        "RDS_ENDPOINT": server.host,
        "RDS_PORT": str(server.port),
        "RDS_USERNAME": server.user,
        "RDS_PASSWORD": server.password,
        "RDS_DATABASE": server.database,
        **extra,
    }


DYNAMODB_TABLE = "salepoint"


def dynamodb_env(moto: MotoServer, **extra: str) -> dict[str, str]:
    # Explicit keys: moto accepts any, and the AWS default credential chain
    # (which could try the instance metadata address) is never consulted.
    return {
        "DYNAMODB_TABLE": DYNAMODB_TABLE,
        "AWS_REGION": "us-east-1",
        "DYNAMODB_ENDPOINT_URL": moto.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # moto answers a Query by walking the whole table in Python; on a busy
        # two-core machine a burst of them takes longer than real DynamoDB would.
        "GRAPHQL_API_DYNAMODB_TIMEOUT": "10",
        **extra,
    }


async def _load_dynamodb(env: dict[str, str]) -> None:
    settings = dynamodb_settings(env)
    async with dynamodb_client(settings) as client:
        await dynamodb_table.create_table(client, table=settings.table)
        rows = dynamodb_table.demo_items(demo_data())
        await dynamodb_table.put_items(client, table=settings.table, rows=rows)


def load_dynamodb(moto: MotoServer) -> None:
    """The table and the demo rows, as `graphql-api dynamodb create-table/load-demo` make them."""
    asyncio.run(_load_dynamodb(dynamodb_env(moto)))


def serve(env: dict[str, str]) -> AppServer:
    return AppServer(create_app(load_settings(env)))
