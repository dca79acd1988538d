"""`graphql-api db init`: apply the files under sql/ to the configured MySQL."""

from __future__ import annotations

from pathlib import Path

from graphql_api.admin.sqlfiles import split_statements, sql_dir, sql_files
from graphql_api.resources import close_mysql_pool, open_mysql_pool
from graphql_api.settings import MySQLSettings


async def apply_sql_files(mysql: MySQLSettings, *, with_seed: bool) -> list[tuple[Path, int]]:
    """Applies each file in one transaction where the server allows it (DDL commits)."""
    pool = await open_mysql_pool(mysql)
    applied = []
    try:
        async with pool.acquire() as connection, connection.cursor() as cursor:
            for path in sql_files(sql_dir(), with_seed=with_seed):
                statements = split_statements(path.read_text())
                await connection.begin()
                for statement in statements:
                    await cursor.execute(statement)
                await connection.commit()
                applied.append((path, len(statements)))
    finally:
        await close_mysql_pool(pool)
    return applied
