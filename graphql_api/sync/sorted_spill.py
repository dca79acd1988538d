"""Rows from both stores, put in key order on disk: what `verify` merges in one pass.

A DynamoDB Scan hands items out in hash order, MySQL in key order; neither fits
in memory at scale. Each side's rows go into one SQLite file (the standard
library's, in a temporary directory that is removed afterwards) as they arrive,
and one ordered read hands them back grouped by key, whatever order they came
in. SQLite sorts with a bounded cache and temporary files, so memory stays flat
in the table's size, and one ordering serves both sides: no collation of
either store has to agree with Python's.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class Side(IntEnum):
    MYSQL = 0
    DYNAMODB = 1


Key = str | int


@dataclass(frozen=True, slots=True)
class KeyGroup:
    """Every row with one key in one phase: the texts each side holds for it."""

    phase: int
    key: Key
    mysql: list[str]
    dynamodb: list[str]


class SortedSpill:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def add(self, side: Side, phase: int, rows: Iterable[tuple[Key, str]]) -> None:
        self._connection.executemany(
            "INSERT INTO spill (phase, key, side, text) VALUES (?, ?, ?, ?)",
            ((phase, key, int(side), text) for key, text in rows),
        )

    def groups(self) -> Iterator[KeyGroup]:
        """Every key of every phase once, in (phase, key) order."""
        rows = self._connection.execute(
            "SELECT phase, key, side, text FROM spill ORDER BY phase, key, side"
        )
        group: KeyGroup | None = None
        for phase, key, side, text in rows:
            if group is None or (group.phase, group.key) != (phase, key):
                if group is not None:
                    yield group
                group = KeyGroup(phase, key, [], [])
            (group.mysql if side == Side.MYSQL else group.dynamodb).append(text)
        if group is not None:
            yield group


@contextmanager
def sorted_spill(directory: Path | None = None) -> Iterator[SortedSpill]:
    """A spill in a new temporary directory (under `directory` if given), removed after."""
    with tempfile.TemporaryDirectory(prefix="verify-", dir=directory) as temporary:
        connection = sqlite3.connect(Path(temporary) / "spill.sqlite3", isolation_level=None)
        try:
            # A scratch file: nothing to recover after a crash, so no journal and no fsync.
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            connection.execute("CREATE TABLE spill (phase INTEGER, key, side INTEGER, text TEXT)")
            connection.execute("BEGIN")
            yield SortedSpill(connection)
        finally:
            connection.close()
