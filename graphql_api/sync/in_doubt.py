"""Customers whose last write to DynamoDB may still land: the relay's list to check.

A BatchWriteItem that failed or timed out may still be applied by DynamoDB
later, after a newer state of the same customer was written: an older state
would then overwrite it. The relay notes each customer of such a batch here,
for a window longer than such a write can take to land, and while the window
lasts compares them with MySQL and writes the current state of any that went
back (sync/outbox.py). A process that dies is not watched by anyone: its last
writes are the one case this cannot cover.
"""

from __future__ import annotations

from collections.abc import Iterable

# Longer than DynamoDB takes to apply a request it has (or to drop it).
WINDOW_S = 60.0
# How often the relay compares the customers in doubt with MySQL.
CHECK_EVERY_S = 2.0


class InDoubt:
    def __init__(self, *, window_s: float = WINDOW_S, check_every_s: float = CHECK_EVERY_S) -> None:
        self._window_s = window_s
        self._check_every_s = check_every_s
        # Customer id -> when its window ends (the event loop's clock).
        self._until: dict[str, float] = {}
        self._last_check = float("-inf")

    def __bool__(self) -> bool:
        return bool(self._until)

    def note(self, customer_ids: Iterable[str], *, now: float) -> None:
        for customer_id in customer_ids:
            self._until[customer_id] = now + self._window_s

    def due(self, *, now: float) -> list[str]:
        """The customers to compare now: all still in their window, when a check is
        due; none otherwise."""
        self._until = {c: until for c, until in self._until.items() if until > now}
        if not self._until or now - self._last_check < self._check_every_s:
            return []
        self._last_check = now
        return sorted(self._until)

    def settled_at(self) -> float | None:
        """When the last window ends (None: nothing in doubt)."""
        return max(self._until.values(), default=None)
