"""Admission: how many GraphQL requests one worker takes at once, in all and per caller.

Past either bound a request is refused at once (503, Retry-After, OVERLOADED)
instead of queueing for a pooled connection it would wait seconds for: a
refusal costs the server almost nothing and tells the client when to come
back, where a queue makes every request slow, the cheap ones of other callers
included. The per-caller bound is the fair share: one caller (a token's
subject, or an address when auth is off) cannot take every slot. Anchors: the
AWS Builders' Library on load shedding; Netflix's concurrency limits.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

# Why a request was refused, as the metrics' `reason` label names it.
IN_FLIGHT = "in_flight"
CALLER_SHARE = "caller_share"


class AdmissionObserver(Protocol):
    """What the metrics count (graphql_api.web.metrics.Metrics)."""

    def admitted(self, in_flight: int) -> None: ...

    def shed(self, reason: str) -> None: ...


class Admission:
    """Requests in flight in this process; `enter` admits or names the bound hit."""

    def __init__(
        self, *, total: int, per_caller: int, observer: AdmissionObserver | None = None
    ) -> None:
        self._total = total
        self._per_caller = per_caller
        self._observer = observer
        self._in_flight = 0
        self._by_caller: Counter[str] = Counter()

    def enter(self, caller: str) -> str | None:
        """None when admitted (then `leave` must follow); else the bound it hit."""
        refused = None
        if self._in_flight >= self._total:
            refused = IN_FLIGHT
        elif self._by_caller[caller] >= self._per_caller:
            refused = CALLER_SHARE
        if refused is not None:
            if self._observer is not None:
                self._observer.shed(refused)
            return refused
        self._in_flight += 1
        self._by_caller[caller] += 1
        if self._observer is not None:
            self._observer.admitted(self._in_flight)
        return None

    def leave(self, caller: str) -> None:
        self._in_flight -= 1
        self._by_caller[caller] -= 1
        if not self._by_caller[caller]:
            del self._by_caller[caller]
        if self._observer is not None:
            self._observer.admitted(self._in_flight)
