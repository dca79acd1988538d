"""Pages fetched while the last one is being used: a store's reads overlap our work on them.

A Scan page or a MySQL page is one round trip; without reading ahead, the store
idles while we convert and write a page, and we idle while it reads the next.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

T = TypeVar("T")


class _End:
    """What the reading task puts last: the error it ended with, if any."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class ReadAhead(Generic[T]):
    """Iterates `source` with a task that stays up to `depth` values ahead.

    Use it as `async with ReadAhead(source) as pages: async for page in pages:`,
    so that leaving early stops the reading task.
    """

    def __init__(self, source: AsyncIterator[T], *, depth: int = 1) -> None:
        self._source = source
        self._queue: asyncio.Queue[T | _End] = asyncio.Queue(maxsize=depth)
        self._task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        try:
            async for value in self._source:
                await self._queue.put(value)
        except Exception as error:
            # Handed to the consumer, which raises it where it waits.
            await self._queue.put(_End(error))
            return
        await self._queue.put(_End(None))

    async def __aenter__(self) -> AsyncIterator[T]:
        self._task = asyncio.create_task(self._read())
        return self._values()

    async def _values(self) -> AsyncIterator[T]:
        while True:
            value = await self._queue.get()
            if isinstance(value, _End):
                if value.error is not None:
                    raise value.error
                return
            yield value

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
