"""One benchmark case: a server under wrk load, then metered one request at a time.

Under load (wrk, fixed connections, warm-up then a fixed duration): requests/s,
p50/p99 latency, peak RSS, and how busy the server's CPU was. One at a time
(the same requests, sequentially): SQL statements and CPU time per request,
which divide exactly there (see bench/sequential.py), and the unloaded latency.

The peers of a case are metered one at a time in turns (`meter_in_turns`):
rounds in which each peer serves a short sequential run, the order rotating,
and each peer's CPU per request the median of its rounds. Metered one after
the other instead, a peer's figure carried whatever the machine was doing in
its second and a half: the same code measured 1.18x and 1.43x its peer's CPU
in two runs minutes apart.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.database import Database
from bench.operations import HttpRequest
from bench.sequential import SequentialRun, run_sequential
from bench.servers import PeerProcess
from bench.wrk import WrkResult, run_wrk


@dataclass(frozen=True, slots=True)
class LoadShape:
    connections: int
    threads: int
    warmup_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class MeterShape:
    min_requests: int = 10
    max_requests: int = 2_000
    min_seconds: float = 1.5


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """wrk's plan files: the warm-up's (O4: other customers) and the measured run's."""

    warmup: Path
    measured: Path
    shape: LoadShape


@dataclass(slots=True)
class CaseResult:
    operation: str
    peer: str
    variant: str = ""
    # Under load; None when the case had no load phase.
    requests: int | None = None
    # Answers without an error per second; `failed` answers (error or user error) apart.
    requests_per_s: float | None = None
    failed: int | None = None
    first_failure: str = ""
    p50_ms: float | None = None
    p99_ms: float | None = None
    # Server CPU seconds per second of the run: 1.0 is one core saturated.
    cpu_busy: float | None = None
    peak_rss_mib: float | None = None
    # Peak since the server started, where the kernel refused to reset the mark.
    peak_rss_since_start: bool = False
    # One request at a time.
    statements_per_request: float = 0.0
    cpu_ms_per_request: float = 0.0
    single_p50_ms: float = 0.0
    single_p99_ms: float = 0.0
    single_requests: int = 0
    # CPU ms per request of each round (meter_in_turns); the figure is their median.
    cpu_ms_rounds: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def measure_case(
    wrk: str,
    *,
    operation: str,
    server: PeerProcess,
    database: Database,
    load: LoadPlan | None,
    meter_plan: Sequence[HttpRequest],
    meter: MeterShape | None,
    variant: str = "",
) -> CaseResult:
    """The case under load, then metered one request at a time; `meter` None
    leaves the metering to meter_in_turns."""
    result = CaseResult(operation=operation, peer=server.peer.value, variant=variant)
    if load is not None:
        _under_load(wrk, server, load, result)
    if meter is not None:
        _one_at_a_time(server, database, meter_plan, meter, result)
    return result


@dataclass(frozen=True, slots=True)
class Metered:
    """One peer's part in meter_in_turns."""

    server: PeerProcess
    plan: Sequence[HttpRequest]
    result: CaseResult


def meter_in_turns(
    metered: Sequence[Metered], database: Database, *, rounds: int, meter: MeterShape
) -> None:
    """Each peer's one-at-a-time figures, from `rounds` rounds in turns (see above)."""
    latencies: dict[int, list[float]] = {index: [] for index in range(len(metered))}
    statements: dict[int, int] = dict.fromkeys(latencies, 0)
    for round_number in range(rounds):
        shift = round_number % len(metered)
        for index in [*range(shift, len(metered)), *range(shift)]:
            peer = metered[index]
            if round_number == 0:
                peer.server.wait_until_idle()  # the load run's last requests are done
            before = database.statements_executed(), peer.server.cpu_seconds()
            run = run_sequential(
                peer.server.base_url,
                peer.plan,
                min_requests=meter.min_requests,
                max_requests=meter.max_requests,
                min_seconds=meter.min_seconds,
                start=len(latencies[index]),
            )
            cpu_s = peer.server.cpu_seconds() - before[1]
            statements[index] += database.statements_executed() - before[0]
            latencies[index] += run.latencies_ms
            peer.result.cpu_ms_rounds.append(round(cpu_s * 1e3 / run.requests, 3))
            peer.result.problems += [f"answer with an error: {f}" for f in run.failures[:3]]
    for index, peer in enumerate(metered):
        result = peer.result
        summary = SequentialRun(len(latencies[index]), latencies[index], [])
        result.cpu_ms_per_request = round(statistics.median(result.cpu_ms_rounds), 3)
        result.statements_per_request = round(statements[index] / summary.requests, 2)
        result.single_p50_ms = round(summary.p50_ms, 2)
        result.single_p99_ms = round(summary.p99_ms, 2)
        result.single_requests = summary.requests


def _under_load(wrk: str, server: PeerProcess, load: LoadPlan, result: CaseResult) -> None:
    shape = load.shape

    def run(plan: Path, duration_s: float) -> tuple[WrkResult, float]:
        before = server.cpu_seconds()
        outcome = run_wrk(
            wrk,
            base_url=server.base_url,
            plan=plan,
            connections=shape.connections,
            threads=shape.threads,
            duration_s=duration_s,
        )
        return outcome, server.cpu_seconds() - before

    if shape.warmup_s > 0:
        warm, _ = run(load.warmup, shape.warmup_s)
        # A warm-up may end before a slow request completes; only failures count.
        result.problems += [f"warm-up: {p}" for p in warm.problems if "no request" not in p]
        if warm.failed and not result.first_failure:
            result.first_failure = f"warm-up: {warm.first_failure}"
    server.wait_until_idle()
    result.peak_rss_since_start = not server.reset_peak_rss()
    measured, cpu_s = run(load.measured, shape.duration_s)
    result.requests = measured.requests
    result.requests_per_s = round(measured.ok_per_s, 1)
    result.failed = measured.failed
    result.first_failure = measured.first_failure or result.first_failure
    result.p50_ms = round(measured.p50_ms, 2)
    result.p99_ms = round(measured.p99_ms, 2)
    result.cpu_busy = round(cpu_s / measured.duration_s, 2)
    result.problems += measured.problems
    server.wait_until_idle()
    result.peak_rss_mib = round(server.peak_rss_bytes() / 2**20, 1)


def _one_at_a_time(
    server: PeerProcess,
    database: Database,
    plan: Sequence[HttpRequest],
    meter: MeterShape,
    result: CaseResult,
) -> None:
    statements_before, cpu_before = database.statements_executed(), server.cpu_seconds()
    run = run_sequential(
        server.base_url,
        plan,
        min_requests=meter.min_requests,
        max_requests=meter.max_requests,
        min_seconds=meter.min_seconds,
    )
    cpu_s = server.cpu_seconds() - cpu_before
    statements = database.statements_executed() - statements_before
    result.statements_per_request = round(statements / run.requests, 2)
    result.cpu_ms_per_request = round(cpu_s * 1e3 / run.requests, 3)
    result.single_p50_ms = round(run.p50_ms, 2)
    result.single_p99_ms = round(run.p99_ms, 2)
    result.single_requests = run.requests
    result.problems += [f"answer with an error: {failure}" for failure in run.failures[:3]]
