"""Where an interrupted sync continues: a position per (phase, segment), kept in MySQL.

A batch's rows and its checkpoint commit in one transaction (for the MySQL
target), so a resumed run never skips a batch and never sees a half-written one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from asyncmy.cursors import Cursor


@dataclass(frozen=True, slots=True)
class Checkpoint:
    position: str | None
    done: bool


async def load(
    cursor: Cursor, *, migration: str, segments: int
) -> dict[tuple[str, int], Checkpoint]:
    await cursor.execute(
        "SELECT phase, segment, segments, position, done FROM migration_checkpoints"
        " WHERE migration = %s",
        [migration],
    )
    rows = await cursor.fetchall()
    if any(int(row[2]) != segments for row in rows):
        raise ValueError(
            f"an interrupted {migration} run used other segments; resume with the same"
            " --segments or start over with --restart"
        )
    return {(row[0], int(row[1])): Checkpoint(row[3], bool(row[4])) for row in rows}


async def save(
    cursor: Cursor,
    *,
    migration: str,
    phase: str,
    segment: int,
    segments: int,
    position: str | None,
    done: bool,
) -> None:
    await cursor.execute(
        "INSERT INTO migration_checkpoints"
        " (migration, phase, segment, segments, position, done, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON DUPLICATE KEY UPDATE position = VALUES(position), done = VALUES(done),"
        " updated_at = VALUES(updated_at)",
        [migration, phase, segment, segments, position, done,
         datetime.now(UTC).replace(tzinfo=None)],
    )  # fmt: skip


async def clear(cursor: Cursor, *, migration: str) -> None:
    await cursor.execute("DELETE FROM migration_checkpoints WHERE migration = %s", [migration])
