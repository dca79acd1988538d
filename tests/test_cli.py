"""The `graphql-api` command as an operator runs it: real processes, real MariaDB."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devstack.env import mysql_env
from devstack.mariadb import MariaDBServer
from devstack.ports import free_port
from tests.utils.cli import graphql_api

ROOT = Path(__file__).resolve().parent.parent


def test_export_schema_prints_the_contract() -> None:
    result = graphql_api("export-schema")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "schema.graphql").read_text()


def test_db_seed_sql_prints_the_committed_seed() -> None:
    result = graphql_api("db", "seed-sql")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "sql" / "020_demo_seed.sql").read_text()


def test_db_init_applies_schema_and_seed_idempotently(mariadb: MariaDBServer) -> None:
    connection = mariadb.connect()
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS cli_init")
        cursor.execute("CREATE DATABASE cli_init")
    env = mysql_env(mariadb, RDS_DATABASE="cli_init")
    try:
        for _ in range(2):
            result = graphql_api("db", "init", "--seed", env=env)
            assert result.returncode == 0, result.stderr
            assert "applied 010_schema.sql" in result.stdout
            assert "applied 020_demo_seed.sql" in result.stdout
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT COUNT(*) FROM cli_init.sales_reps),"
                " (SELECT COUNT(*) FROM cli_init.customers),"
                " (SELECT COUNT(*) FROM cli_init.customer_events)"
            )
            assert cursor.fetchone() == (20, 500, 1346)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP DATABASE IF EXISTS cli_init")
        connection.close()


def test_db_init_without_mysql_says_what_is_missing() -> None:
    result = graphql_api("db", "init")
    assert result.returncode != 0
    assert "RDS_ENDPOINT" in result.stderr


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param(
            {"RDS_ENDPOINT": "db", "RDS_USERNAME": "u", "RDS_PORT": "x"}, "RDS_PORT", id="bad-port"
        ),
        pytest.param({"STUDENT_MODE": "perhaps"}, "STUDENT_MODE", id="bad-flag"),
    ],
)
def test_serve_refuses_to_start_on_a_malformed_setting(env: dict[str, str], variable: str) -> None:
    result = graphql_api("serve", "--port", str(free_port()), env=env)
    assert result.returncode != 0
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_answers_graphql_and_stops_on_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "graphql_api", "serve", "--port", str(port)],
        env={"PATH": os.environ["PATH"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        # uvicorn prints this once the socket listens: wait on it, not on a timer.
        for line in process.stdout:
            if "Uvicorn running on" in line:
                break
        body = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": '{ customer(id: "C-00001") { id source } }'},
        ).json()
        assert body == {
            "data": {"customer": {"id": "C-00001", "source": "MEMORY"}},
            "extensions": {
                "stores": {"used": ["MEMORY"], "degraded": False},
                "cost": {"requestedQueryCost": 1, "maximumQueryCost": 100_000},
            },
        }
        page = httpx.get(f"http://127.0.0.1:{port}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
    finally:
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=30)[0]
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode == -signal.SIGTERM
    assert "Application shutdown complete" in rest
