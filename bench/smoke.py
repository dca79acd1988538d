"""`make bench-smoke`: every operation and peer briefly, and the same JSON from all.

Run by the test suite (tests/test_bench_smoke.py) so the harness cannot rot:
identical answers first (reads compared directly; each peer's assignment made
from the same starting state and compared with its effect on the rows), then
each case under wrk for a moment and metered, with any failure reported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cases import IDENTITY_BLOCK, O4_BLOCKS, case_plans
from bench.data import SCALES, load
from bench.database import Database
from bench.measure import (
    CaseResult,
    LoadPlan,
    LoadShape,
    Metered,
    MeterShape,
    measure_case,
    meter_in_turns,
)
from bench.operations import OPERATIONS, HttpRequest, Peer, o4_plan, scaling_plan
from bench.sequential import Client
from bench.servers import Servers, server_env
from bench.wrk import ensure_wrk, write_plan

SCALE = SCALES["smoke"]
_SAMPLES = (0, 1, -1)
# A moment of load is enough to show a case runs under wrk without a failed answer.
# wrk counts only answers that arrive within its run, and naive O3 can take over a
# second per request on a busy machine: it gets 3 s, the others 1 s.
_SHAPE = LoadShape(connections=2, threads=1, warmup_s=0, duration_s=1)
_SLOW_SHAPE = LoadShape(connections=2, threads=1, warmup_s=0, duration_s=3)
_SLOW_OPERATIONS = frozenset({"O3"})
_METER = MeterShape(min_requests=3, max_requests=50, min_seconds=0)
# Two rounds in turns: the metering's rotation runs, briefly.
_METER_ROUNDS = 2


@dataclass(slots=True)
class SmokeReport:
    # Labels of the requests whose answers were compared across peers.
    compared: list[str] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _ask(servers: Servers, requests: dict[Peer, HttpRequest]) -> dict[Peer, Any]:
    answers = {}
    for peer, request in requests.items():
        client = Client(servers.by_peer[peer].base_url)
        try:
            answers[peer] = client.send(request)
        finally:
            client.close()
    return answers


def _payload(answer: Any) -> Any:
    """What a client reads: data and errors. The API's `extensions` (which stores
    served the answer) has no counterpart in the peers."""
    if isinstance(answer, dict):
        return {key: value for key, value in answer.items() if key != "extensions"}
    return answer


def _differences(label: str, raw_answers: dict[Peer, Any]) -> list[str]:
    answers = {peer: _payload(answer) for peer, answer in raw_answers.items()}
    reference = answers[Peer.API]
    problems = []
    # GraphQL's answers hold `data`; a REST route's (R1) its object by name.
    found = reference.get("data", reference)
    if not found or None in found.values():
        problems.append(f"{label}: the API answered no data: {json.dumps(reference)[:300]}")
    for peer, answer in answers.items():
        if answer != reference:
            problems.append(
                f"{label}: {peer.value} differs from api:"
                f" {json.dumps(answer)[:300]} != {json.dumps(reference)[:300]}"
            )
    return problems


def _compare_reads(servers: Servers, report: SmokeReport) -> None:
    variants: list[tuple[str, dict[Peer, list[HttpRequest]]]] = [
        (op.name, {peer: case_plans(op.name, peer, SCALE).measured for peer in Peer})
        for op in OPERATIONS
        if not op.writes
    ]
    variants.append(("O2 first=10", {peer: scaling_plan(peer.style, 10) for peer in Peer}))
    for name, plans in variants:
        for index in sorted({i % len(plans[Peer.API]) for i in _SAMPLES}):
            answers = _ask(servers, {peer: plan[index] for peer, plan in plans.items()})
            label = f"{name} request {index}"
            report.problems += _differences(label, answers)
            report.compared.append(label)


@dataclass(frozen=True, slots=True)
class _CustomerState:
    rep: str | None
    version: int
    updated_at: object
    last_event: int


def _state(database: Database, customer: str) -> _CustomerState:
    connection = database.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT assigned_sales_rep_id, version, updated_at,"
                " (SELECT MAX(event_id) FROM customer_events WHERE customer_id = %s)"
                " FROM customers WHERE customer_id = %s",
                [customer, customer],
            )
            found = cursor.fetchone()
            assert found is not None, customer
            rep, version, updated_at, last_event = found
    finally:
        connection.close()
    return _CustomerState(rep, version, updated_at, last_event)


def _restore(database: Database, customer: str, state: _CustomerState) -> None:
    connection = database.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM customer_events WHERE customer_id = %s AND event_id > %s",
                [customer, state.last_event],
            )
            cursor.execute(
                "UPDATE customers SET assigned_sales_rep_id = %s, version = %s, updated_at = %s"
                " WHERE customer_id = %s",
                [state.rep, state.version, state.updated_at, customer],
            )
    finally:
        connection.close()


def _effect(database: Database, customer: str, before: _CustomerState) -> list[Any]:
    """What a write left in the rows, without its times and ids."""
    connection = database.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT assigned_sales_rep_id, version FROM customers WHERE customer_id = %s",
                [customer],
            )
            fetched = cursor.fetchone()
            assert fetched is not None, customer
            row = list(fetched)
            cursor.execute(
                "SELECT kind, actor, from_sales_rep_id, to_sales_rep_id, from_status, to_status,"
                " note FROM customer_events WHERE customer_id = %s AND event_id > %s"
                " ORDER BY event_id",
                [customer, before.last_event],
            )
            return [row, [list(event) for event in cursor.fetchall()]]
    finally:
        connection.close()


def _compare_assignments(servers: Servers, database: Database, report: SmokeReport) -> None:
    plans = {
        peer: o4_plan(peer.style, SCALE, block=IDENTITY_BLOCK, blocks=O4_BLOCKS) for peer in Peer
    }
    for index in (0, 1):
        customer = json.loads(plans[Peer.REST][index].body or "{}")["customerId"]
        before = _state(database, customer)
        answers: dict[Peer, Any] = {}
        effects: dict[Peer, Any] = {}
        for peer, plan in plans.items():
            _restore(database, customer, before)
            answers |= _ask(servers, {peer: plan[index]})
            effects[peer] = _effect(database, customer, before)
        _restore(database, customer, before)
        report.problems += _differences(f"O4 request {index}", answers)
        report.problems += _differences(f"O4 request {index} rows", _as_data(effects))
        if not effects[Peer.API][1]:
            report.problems.append(f"O4 request {index}: the API wrote no event")
        report.compared.append(f"O4 request {index}")


def _as_data(effects: dict[Peer, Any]) -> dict[Peer, Any]:
    return {peer: {"data": {"rows": effect}} for peer, effect in effects.items()}


def _run_cases(
    servers: Servers, database: Database, wrk: str, work_dir: Path, report: SmokeReport
) -> None:
    for operation in OPERATIONS:
        metered = []
        for peer, server in servers.by_peer.items():
            plans = case_plans(operation.name, peer, SCALE)
            name = f"{operation.name}-{peer.value}"
            load_plan = LoadPlan(
                warmup=write_plan(plans.warmup, work_dir / f"{name}.warmup.plan"),
                measured=write_plan(plans.measured, work_dir / f"{name}.plan"),
                shape=_SLOW_SHAPE if operation.name in _SLOW_OPERATIONS else _SHAPE,
            )
            result = measure_case(
                wrk,
                operation=operation.name,
                server=server,
                database=database,
                load=load_plan,
                meter_plan=plans.meter,
                meter=None,
            )
            metered.append(Metered(server, plans.meter, result))
        meter_in_turns(metered, database, rounds=_METER_ROUNDS, meter=_METER)
        for part in metered:
            result = part.result
            name = f"{operation.name}-{result.peer}"
            report.cases.append(result)
            report.problems += [f"{name}: {problem}" for problem in result.problems]
            if result.failed:
                report.problems.append(
                    f"{name}: {result.failed} failed answers, first: {result.first_failure}"
                )


def check(database: Database, work_dir: Path) -> SmokeReport:
    """Loads the smoke rows into `database` (recreated), then checks every peer."""
    wrk = ensure_wrk()
    database.recreate()
    load(database, SCALE)
    report = SmokeReport()
    env = server_env(database.env(), max_page_size=100)
    # The smoke checks answers, not capacity: the naive peer's O3 sends hundreds of
    # statements at once, and on a busy machine (the test suite's other worker)
    # they waited past the pool's 1 s and were refused as OVERLOADED.
    env["GRAPHQL_API_MYSQL_POOL_WAIT"] = "30"
    with Servers(env, work_dir) as servers:
        _compare_reads(servers, report)
        _compare_assignments(servers, database, report)
        _run_cases(servers, database, wrk, work_dir, report)
    return report


def describe(report: SmokeReport) -> Sequence[str]:
    lines = [f"compared {len(report.compared)} requests across {len(Peer)} peers"]
    lines += [
        f"{case.operation} {case.peer}: {case.requests} requests under load,"
        f" {case.statements_per_request:g} SQL/req"
        for case in report.cases
    ]
    return lines + [f"PROBLEM {problem}" for problem in report.problems]
