"""Requests one at a time over one keep-alive connection: exact per-request meters.

Under load wrk stops with requests in flight, and a busy server may never read
the last ones, so counters over a wrk run cannot be divided exactly. Here every
request is sent, served and answered before the next, so the status counters
and the server's CPU time divide exactly by the requests sent.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import cycle
from typing import Any
from urllib.parse import urlsplit

from bench.credentials import credentials
from bench.operations import HttpRequest

_HEADERS = {"Content-Type": "application/json"}


class Client:
    """One keep-alive HTTP connection that insists on a 200 with a JSON body."""

    def __init__(self, base_url: str, *, timeout_s: float = 120.0) -> None:
        parts = urlsplit(base_url)
        assert parts.hostname is not None
        assert parts.port is not None
        self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)

    def send(self, request: HttpRequest) -> Any:
        body = request.body.encode() if request.body is not None else None
        headers = {**_HEADERS, "Authorization": credentials().authorization}
        self._connection.request(request.method, request.path, body=body, headers=headers)
        answer = self._connection.getresponse()
        payload = answer.read()
        if answer.status != 200:
            raise RuntimeError(
                f"{request.method} {request.path}: {answer.status} {payload[:300]!r}"
            )
        return json.loads(payload)

    def close(self) -> None:
        self._connection.close()


@dataclass(frozen=True, slots=True)
class SequentialRun:
    requests: int
    latencies_ms: list[float]
    failures: list[str]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p99_ms(self) -> float:
        if len(self.latencies_ms) < 2:
            return self.p50_ms
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[98]


def _failure(answer: Any) -> str | None:
    """What is wrong with a GraphQL-shaped answer: errors, or a user error result."""
    text = json.dumps(answer)
    if "errors" in answer or '"code"' in text:
        return text[:300]
    return None


def run_sequential(
    base_url: str,
    plan: Sequence[HttpRequest],
    *,
    min_requests: int,
    max_requests: int,
    min_seconds: float,
    start: int = 0,
) -> SequentialRun:
    """At least `min_requests` and `min_seconds`, at most `max_requests`; from
    the plan's request `start` on (a run that goes on where another stopped:
    O4's plan moves each customer once per pass)."""
    client = Client(base_url)
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    offset = start % len(plan)
    try:
        for request in cycle([*plan[offset:], *plan[:offset]]):
            enough_time = time.perf_counter() - started >= min_seconds
            if len(latencies) >= max_requests or (len(latencies) >= min_requests and enough_time):
                break
            sent_at = time.perf_counter()
            answer = client.send(request)
            latencies.append((time.perf_counter() - sent_at) * 1e3)
            failure = _failure(answer)
            if failure is not None:
                failures.append(failure)
    finally:
        client.close()
    return SequentialRun(requests=len(latencies), latencies_ms=latencies, failures=failures)
