"""Real servers for the tests: a throwaway MariaDB, moto (DynamoDB) and the app on a real port.

Every behavioural test takes the `api` fixture and runs once per store
(memory and MySQL), so the in-memory demo cannot drift from the real thing.
Tests marked `read_only` also run against a DynamoDB-only API, which takes no
writes; the marker is opt-in so a mutation test never lands there by default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.app_server import GraphQLClient
from devstack.env import dynamodb_env, load_dynamodb, mysql_env, serve
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from graphql_api.admin.db_init import apply_sql_files
from graphql_api.settings import load_settings
from tests.utils.api import Api
from tests.utils.mariadb import reseed


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


@pytest.fixture
def seeded_mariadb(mariadb: MariaDBServer) -> MariaDBServer:
    reseed(mariadb)
    return mariadb


@pytest.fixture
def restorable_mariadb(seeded_mariadb: MariaDBServer) -> Iterator[MariaDBServer]:
    """The session's MariaDB, running again (same port, same data) after the test."""
    try:
        yield seeded_mariadb
    finally:
        if seeded_mariadb.running:
            seeded_mariadb.resume()
        else:
            seeded_mariadb.start()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "api" in metafunc.fixturenames:
        stores = ["memory", "mysql"]
        if metafunc.definition.get_closest_marker("read_only"):
            stores.append("dynamodb")
        metafunc.parametrize("api", stores, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # make test runs whole modules on two workers (pytest-xdist, --dist loadfile) in
    # collection order: the longest start first, so both workers end at about the
    # same time. A stable sort keeps every other order as it was.
    items.sort(key=lambda item: item.get_closest_marker("long_running") is None)


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
