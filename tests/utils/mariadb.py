"""The test MariaDB's contents and counters: reseeding, statements executed."""

from __future__ import annotations

from devstack.mariadb import MariaDBServer
from graphql_api.admin.sqlfiles import SEED_FILE_NAME, split_statements, sql_dir

_TABLES = (
    "idempotency_keys",
    "outbox",
    "migration_checkpoints",
    "customer_events",
    "customers",
    "sales_reps",
)


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
