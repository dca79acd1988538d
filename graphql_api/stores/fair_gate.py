"""Fair turns at a store's pooled connections, caller by caller.

A pool hands a freed connection to whoever waited longest, so one caller
with two hundred requests in flight keeps every other caller behind all of
them. The gate in front of the pool lets as many requests through as the pool
has connections, and when one leaves, the next turn goes to the next caller in
rotation, each caller's own requests in order: a bystander waits for one
statement, not for the attacker's queue.

The caller is the request's (set by the HTTP layer from the token's subject,
or the client's address with auth off); work outside a request (the outbox
relay, CLI commands) shares one name.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextvars import ContextVar

current_caller: ContextVar[str] = ContextVar("current_caller", default="internal")


class FairGate:
    """At most `capacity` holders; waiters served round-robin by caller."""

    def __init__(self, capacity: int) -> None:
        self._free = capacity
        # Callers with waiters, in the order their next turn comes (dicts keep it).
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    def try_acquire(self) -> bool:
        """Takes a turn if one is free and nobody waits for one."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return True
        return False

    async def acquire(self) -> None:
        """Waits for a turn; cancelled (a timeout), it gives back a turn it was handed."""
        if self.try_acquire():
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(current_caller.get(), deque()).append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()
            raise

    def release(self) -> None:
        """Hands the freed turn to the next caller in rotation, or keeps it free."""
        while self._waiting:
            caller = next(iter(self._waiting))
            turns = self._waiting.pop(caller)
            turn = turns.popleft()
            if turns:
                # This caller's next request waits for its next rotation.
                self._waiting[caller] = turns
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1
