"""Events in id order without holes, though ids are taken before they commit.

MySQL hands out an AUTO_INCREMENT id when a row is inserted, not when its
transaction commits: a write that took id 10 may commit after one that took
11. A poller that read 11 and moved past 10 would never see 10. So a missing
id holds back the events after it until it appears (the next poll reads it,
in order) or has been missing for `gap_timeout_s`: then its transaction rolled
back (a rolled-back insert leaves its id unused for good) and it is given up.
The gap timeout must exceed the longest a write transaction can stay open
(the store's query timeout bounds it). A gap is as old as the first time a
poll saw it, or, when the event after it was written more than two gap
timeouts ago, old enough already: a poller that was idle or paused, catching
up, does not wait again on ids that went missing long before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from graphql_api.stores.records import FeedEvent

log = logging.getLogger("graphql_api.feed")

_Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Released:
    """What a poll may deliver: events in order, the position after them, and
    how many ids were given up on the way."""

    events: list[FeedEvent]
    position: int
    given_up: int


class EventSequencer:
    def __init__(
        self,
        *,
        gap_timeout_s: float,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self._gap_timeout_s = gap_timeout_s
        self._clock = clock
        self._wall_clock = wall_clock
        # Missing id ranges (first, last) and when each was first seen missing.
        self._seen: dict[_Range, float] = {}

    def release(self, position: int, events: Sequence[FeedEvent]) -> Released:
        """`events`: every event above `position` a read found, in id order."""
        now = self._clock()
        self._seen = self._gaps(position, events, now)
        released: list[FeedEvent] = []
        given_up = 0
        for event in events:
            if event.id > position + 1:
                gap = (position + 1, event.id - 1)
                if now - self._seen[gap] < self._gap_timeout_s:
                    break
                log.warning(
                    "event ids %d to %d did not appear within %g s: given up as rolled back",
                    *gap,
                    self._gap_timeout_s,
                )
                given_up += event.id - 1 - position
            released.append(event)
            position = event.id
        return Released(events=released, position=position, given_up=given_up)

    def _gaps(self, position: int, events: Sequence[FeedEvent], now: float) -> dict[_Range, float]:
        """The ranges missing between `position` and the events, each with the
        earliest time a range overlapping it was seen missing (a gap that was
        partly filled keeps its age)."""
        gaps: dict[_Range, float] = {}
        expected = position + 1
        wall_now = self._wall_clock()
        for event in events:
            if event.id > expected:
                first, last = expected, event.id - 1
                ages = [t for (a, b), t in self._seen.items() if a <= last and first <= b]
                # The event after the gap dates it: written before it took its id.
                written_ago = wall_now - event.event.at.timestamp()
                ages.append(now - max(0.0, written_ago - self._gap_timeout_s))
                gaps[first, last] = min(ages)
            expected = event.id + 1
        return gaps
