"""Idempotency keys: the first answer to a key, kept so a retry gets it again.

A key is claimed before the write it guards runs and holds that write's answer
once it has one. The store of the writes keeps the keys too: MySQL (table
`idempotency_keys`, sql/030_idempotency_keys.sql), shared by every replica, or
the in-memory store's process. Both take a key by its `key_hash`, a hash of the
caller and the key the client chose, so a caller never meets another's key.

A claim that is older than `lease_s` and still has no answer was abandoned (its
process died mid-request); a later request may take it over. An entry older than
`ttl_s` is gone: its key starts afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from asyncmy import errors as driver_errors
from asyncmy.cursors import Cursor

from graphql_api.stores.mysql import MySQLStore
from graphql_api.stores.mysql_tables import naive_utc

# Stripe's convention: a key is remembered for 24 hours.
TTL = timedelta(hours=24)
# The memory store's bound; MySQL's is the TTL (expired rows are deleted).
MEMORY_MAX_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    # The headers a replay repeats (ETag, Location, ...), as JSON text.
    headers: str
    body: bytes


@dataclass(frozen=True, slots=True)
class HeldKey:
    """What a key already holds: its request's fingerprint, its answer (None: still running)."""

    fingerprint: bytes
    answer: StoredAnswer | None


class IdempotencyKeys(Protocol):
    async def claim(self, *, key_hash: bytes, fingerprint: bytes) -> HeldKey | None:
        """None when the key is now this request's; else what it holds."""
        ...

    async def finish(self, *, key_hash: bytes, answer: StoredAnswer) -> None: ...

    async def release(self, *, key_hash: bytes) -> None:
        """Forgets a claim whose request got no answer worth keeping (a 5xx)."""
        ...


@dataclass(slots=True)
class _Entry:
    fingerprint: bytes
    claimed_at: datetime
    answer: StoredAnswer | None = None


class MemoryIdempotencyKeys:
    """The in-memory store's keys: this process only, at most MEMORY_MAX_KEYS."""

    def __init__(
        self, *, lease_s: float, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._entries: dict[bytes, _Entry] = {}
        self._lease = timedelta(seconds=lease_s)
        self._clock = clock

    async def claim(self, *, key_hash: bytes, fingerprint: bytes) -> HeldKey | None:
        now = self._clock()
        entry = self._entries.get(key_hash)
        if entry is not None and not _reusable(entry, now, self._lease):
            return HeldKey(entry.fingerprint, entry.answer)
        self._entries.pop(key_hash, None)
        if len(self._entries) >= MEMORY_MAX_KEYS:
            # The oldest out (dicts keep insertion order).
            del self._entries[next(iter(self._entries))]
        self._entries[key_hash] = _Entry(fingerprint, now)
        return None

    async def finish(self, *, key_hash: bytes, answer: StoredAnswer) -> None:
        entry = self._entries.get(key_hash)
        if entry is not None:
            entry.answer = answer

    async def release(self, *, key_hash: bytes) -> None:
        self._entries.pop(key_hash, None)


def _reusable(entry: _Entry, now: datetime, lease: timedelta) -> bool:
    expired = entry.claimed_at < now - TTL
    abandoned = entry.answer is None and entry.claimed_at < now - lease
    return expired or abandoned


_DUPLICATE_KEY = 1062
_CLAIM_SQL = "INSERT INTO idempotency_keys (key_hash, fingerprint, created_at) VALUES (%s, %s, %s)"
# Takes over an expired key, or a claim abandoned without an answer.
_TAKE_OVER_SQL = (
    "UPDATE idempotency_keys SET fingerprint = %s, created_at = %s, status = NULL,"
    " headers = NULL, body = NULL WHERE key_hash = %s"
    " AND (created_at < %s OR (status IS NULL AND created_at < %s))"
)
_HELD_SQL = "SELECT fingerprint, status, headers, body FROM idempotency_keys WHERE key_hash = %s"
_FINISH_SQL = "UPDATE idempotency_keys SET status = %s, headers = %s, body = %s WHERE key_hash = %s"
_RELEASE_SQL = "DELETE FROM idempotency_keys WHERE key_hash = %s AND status IS NULL"
# A few expired rows per claim: the table shrinks as fast as it grows.
_EXPIRE_SQL = "DELETE FROM idempotency_keys WHERE created_at < %s LIMIT 20"


class MySQLIdempotencyKeys:
    """Keys in MySQL's `idempotency_keys`, on the writer's pool: every replica sees them."""

    def __init__(self, store: MySQLStore, *, lease_s: float) -> None:
        self._store = store
        self._lease = timedelta(seconds=lease_s)

    async def claim(self, *, key_hash: bytes, fingerprint: bytes) -> HeldKey | None:
        now = datetime.now(UTC)
        expired_before = naive_utc(now - TTL)
        async with self._store.connection() as connection, connection.cursor() as cursor:
            await cursor.execute(_EXPIRE_SQL, [expired_before])
            if await self._inserted(cursor, key_hash, fingerprint, now):
                return None
            await cursor.execute(
                _TAKE_OVER_SQL,
                [
                    fingerprint,
                    naive_utc(now),
                    key_hash,
                    expired_before,
                    naive_utc(now - self._lease),
                ],
            )
            if cursor.rowcount == 1:
                return None
            await cursor.execute(_HELD_SQL, [key_hash])
            row = await cursor.fetchone()
        if row is None:
            # Released between our insert and this read: the client may retry at once.
            return HeldKey(fingerprint, None)
        held_fingerprint, status, headers, body = row
        answer = None if status is None else StoredAnswer(int(status), headers, bytes(body))
        return HeldKey(bytes(held_fingerprint), answer)

    @staticmethod
    async def _inserted(cursor: Cursor, key_hash: bytes, fingerprint: bytes, now: datetime) -> bool:
        try:
            await cursor.execute(_CLAIM_SQL, [key_hash, fingerprint, naive_utc(now)])
        except driver_errors.IntegrityError as error:
            if error.args and error.args[0] == _DUPLICATE_KEY:
                return False
            raise
        return True

    async def finish(self, *, key_hash: bytes, answer: StoredAnswer) -> None:
        await self._execute(_FINISH_SQL, [answer.status, answer.headers, answer.body, key_hash])

    async def release(self, *, key_hash: bytes) -> None:
        await self._execute(_RELEASE_SQL, [key_hash])

    async def _execute(self, sql: str, params: list[object]) -> None:
        async with self._store.connection() as connection, connection.cursor() as cursor:
            await cursor.execute(sql, params)
