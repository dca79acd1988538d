"""Where an interrupted sync continues: a position per (phase, segment), kept in MySQL.

A batch's rows and its checkpoint commit in one transaction (for the MySQL
target), so a resumed run never skips a batch and never sees a half-written one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asyncmy.cursors import Cursor
from asyncmy.pool import Pool


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
        [
            migration,
            phase,
            segment,
            segments,
            position,
            done,
            datetime.now(UTC).replace(tzinfo=None),
        ],
    )


async def clear(cursor: Cursor, *, migration: str) -> None:
    await cursor.execute("DELETE FROM migration_checkpoints WHERE migration = %s", [migration])


SegmentRun = Callable[[str, int, Checkpoint | None], Awaitable[None]]


async def run_in_phases(
    *,
    pool: Pool,
    migration: str,
    phases: Sequence[str],
    segments: int,
    dry_run: bool,
    restart: bool,
    segment: SegmentRun,
) -> bool:
    """Runs every segment of each phase in turn, from its checkpoint; True if resumed.

    A finished run clears its checkpoints, so the next one starts from the
    beginning (and finds nothing to change). A dry run neither reads nor writes them.
    """
    async with pool.acquire() as connection, connection.cursor() as cursor:
        if restart:
            await clear(cursor, migration=migration)
        saved = {} if dry_run else await load(cursor, migration=migration, segments=segments)
    for phase in phases:
        await asyncio.gather(
            *(segment(phase, number, saved.get((phase, number))) for number in range(segments))
        )
    if not dry_run:
        async with pool.acquire() as connection, connection.cursor() as cursor:
            await clear(cursor, migration=migration)
    return bool(saved)
