"""The MySQL-protocol database a benchmark runs against, and what we read off it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pymysql  # type: ignore[import-untyped, unused-ignore]

from graphql_api.admin.db_init import apply_sql_files
from graphql_api.settings import MySQLSettings, load_settings

Decoder = Callable[[str], object]

# Statements a request can cost; BEGIN/COMMIT, SET and SHOW are not counted.
STATEMENT_COUNTERS = (
    "Com_select",
    "Com_insert",
    "Com_insert_select",
    "Com_update",
    "Com_update_multi",
    "Com_delete",
    "Com_delete_multi",
)


@dataclass(frozen=True, slots=True)
class Database:
    host: str
    port: int
    user: str
    password: str
    name: str

    def env(self) -> dict[str, str]:
        """The variables the API (and the peers) read their MySQL settings from."""
        return {
            "RDS_ENDPOINT": self.host,
            "RDS_PORT": str(self.port),
            "RDS_USERNAME": self.user,
            "RDS_PASSWORD": self.password,
            "RDS_DATABASE": self.name,
        }

    def settings(self) -> MySQLSettings:
        mysql = load_settings(self.env()).mysql
        assert mysql is not None
        return mysql

    def connect(
        self, *, database: bool = True, decoders: Mapping[int, Decoder] | None = None
    ) -> pymysql.Connection:  # type: ignore[type-arg, unused-ignore]
        """A PyMySQL connection; `decoders` (by column type) replace PyMySQL's own."""
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.name if database else None,
            autocommit=True,
            charset="utf8mb4",
            conv={**pymysql.converters.conversions, **(decoders or {})},
        )

    def recreate(self) -> None:
        """An empty database with the API's tables (sql/ without the demo seed)."""
        connection = self.connect(database=False)
        try:
            with connection.cursor() as cursor:
                quoted = "`" + self.name.replace("`", "``") + "`"
                cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
                cursor.execute(f"CREATE DATABASE {quoted}")
        finally:
            connection.close()
        asyncio.run(apply_sql_files(self.settings(), with_seed=False))

    def statements_executed(self) -> int:
        """Statements the whole server has executed so far (its status counters)."""
        connection = self.connect(database=False)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS LIKE 'Com\\_%'")
                values = dict(cursor.fetchall())
        finally:
            connection.close()
        return sum(int(values.get(name, 0)) for name in STATEMENT_COUNTERS)

    def server_version(self) -> str:
        connection = self.connect(database=False)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT VERSION()")
                row = cursor.fetchone()
        finally:
            connection.close()
        assert row is not None
        return str(row[0])


def grow_buffer_pool(database: Database, *, mib: int) -> None:
    """Room for the large scale's rows in memory (the throwaway server starts with 64M).

    The resize is dynamic; a server that refuses keeps its size, which only costs
    speed, so a refusal is not an error.
    """
    connection = database.connect(database=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET GLOBAL innodb_buffer_pool_size = %s", [mib * 2**20])
    except pymysql.err.MySQLError:
        pass
    finally:
        connection.close()
