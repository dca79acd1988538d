"""Real servers for the tests: a throwaway MariaDB, moto (DynamoDB) and the app on a real port.

Every behavioural test takes the `api` fixture and runs once per store
(memory and MySQL), so the in-memory demo cannot drift from the real thing.
Tests marked `read_only` also run against a DynamoDB-only API, which takes no
writes; the marker is opt-in so a mutation test never lands there by default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graphql_api import dynamodb_admin
from graphql_api.app import create_app
from graphql_api.db_init import apply_sql_files
from graphql_api.demo import demo_data
from graphql_api.resources import dynamodb_client
from graphql_api.settings import dynamodb_settings, load_settings
from graphql_api.sqlfiles import SEED_FILE_NAME, split_statements, sql_dir
from tests.servers.app_server import AppServer, GraphQLClient
from tests.servers.mariadb import MariaDBServer
from tests.servers.moto_server import MotoServer

_TABLES = ("outbox", "migration_checkpoints", "customer_events", "customers", "sales_reps")


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
        await dynamodb_admin.create_table(client, table=settings.table)
        rows = dynamodb_admin.demo_items(demo_data())
        await dynamodb_admin.put_items(client, table=settings.table, rows=rows)


def load_dynamodb(moto: MotoServer) -> None:
    """The table and the demo rows, as `graphql-api dynamodb create-table/load-demo` make them."""
    asyncio.run(_load_dynamodb(dynamodb_env(moto)))


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto with the demo rows. Read-only for tests: nothing writes to DynamoDB."""
    server = MotoServer(log_path=tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    try:
        load_dynamodb(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    server = MariaDBServer(base_dir=tmp_path_factory.mktemp("mariadb"))
    server.start()
    try:
        settings = load_settings(mysql_env(server))
        assert settings.mysql is not None
        asyncio.run(apply_sql_files(settings.mysql, with_seed=False))
        yield server
    finally:
        server.stop()


def reseed(server: MariaDBServer) -> None:
    """Back to exactly the demo rows: empty the tables, apply the seed file."""
    seed = split_statements((sql_dir() / SEED_FILE_NAME).read_text())
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
            for table in _TABLES:
                cursor.execute(f"TRUNCATE TABLE {table}")
            cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
            for statement in seed:
                cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture
def seeded_mariadb(mariadb: MariaDBServer) -> MariaDBServer:
    reseed(mariadb)
    return mariadb


class StatementCounter:
    """Statements the server executed, from its own status counters."""

    _COUNTERS = ("Com_select", "Com_insert", "Com_update", "Com_delete")

    def __init__(self, server: MariaDBServer) -> None:
        self._server = server

    def total(self) -> int:
        connection = self._server.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS")
                values = {name: value for name, value in cursor.fetchall()}
        finally:
            connection.close()
        return sum(int(values[name]) for name in self._COUNTERS)


@dataclass
class Api:
    """The app over HTTP, and what the test needs to know about its store."""

    client: GraphQLClient
    store: str
    source: str
    mariadb: MariaDBServer | None = None

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client.post(query, variables)

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client.data(query, variables)


def serve(env: dict[str, str]) -> AppServer:
    return AppServer(create_app(load_settings(env)))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "api" in metafunc.fixturenames:
        stores = ["memory", "mysql"]
        if metafunc.definition.get_closest_marker("read_only"):
            stores.append("dynamodb")
        metafunc.parametrize("api", stores, indirect=True)


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The app on one store; the stores come from pytest_generate_tests, extra
    settings from an `api_env` marker."""
    marker = request.node.get_closest_marker("api_env")
    extra: dict[str, str] = dict(marker.kwargs) if marker else {}
    server: MariaDBServer | None = None
    if request.param == "mysql":
        server = request.getfixturevalue("seeded_mariadb")
        env = mysql_env(server, **extra)
    elif request.param == "dynamodb":
        env = dynamodb_env(request.getfixturevalue("moto"), GRAPHQL_API_STORES="dynamodb", **extra)
    else:
        env = extra
    with serve(env) as app:
        client = GraphQLClient(app.base_url)
        try:
            yield Api(client, request.param, request.param.upper(), mariadb=server)
        finally:
            client.close()


@pytest.fixture
def mysql_api(seeded_mariadb: MariaDBServer) -> Iterator[Api]:
    with serve(mysql_env(seeded_mariadb)) as app:
        client = GraphQLClient(app.base_url)
        try:
            yield Api(client, "mysql", "MYSQL", mariadb=seeded_mariadb)
        finally:
            client.close()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
