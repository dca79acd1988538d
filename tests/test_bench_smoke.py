"""The benchmark harness (make bench-smoke) still runs, and its peers still agree.

Not a timed test: it checks that every operation runs against every peer under
wrk without a failed response, that all peers answer with the API's JSON, and
the statement counts that make each peer what it claims to be.
"""

from __future__ import annotations

import statistics

import pytest

from bench import smoke
from bench.database import Database
from bench.measure import CaseResult
from bench.operations import OPERATIONS, Peer
from devstack.mariadb import MariaDBServer

pytestmark = pytest.mark.long_running


@pytest.fixture(scope="module")
def report(mariadb: MariaDBServer, tmp_path_factory: pytest.TempPathFactory) -> smoke.SmokeReport:
    # Its own database on the session's server, so the demo rows stay untouched.
    database = Database(mariadb.host, mariadb.port, mariadb.user, mariadb.password, "bench_smoke")
    return smoke.check(database, tmp_path_factory.mktemp("bench-smoke"))


def _case(report: smoke.SmokeReport, operation: str, peer: Peer) -> CaseResult:
    return next(c for c in report.cases if c.operation == operation and c.peer == peer.value)


def test_smoke_check_finds_no_problem(report: smoke.SmokeReport) -> None:
    assert report.problems == []


def test_every_operation_runs_under_load_against_every_peer(report: smoke.SmokeReport) -> None:
    ran = {(case.operation, case.peer) for case in report.cases if case.requests}
    assert ran == {(op.name, peer.value) for op in OPERATIONS for peer in Peer}


def test_peers_were_compared_on_every_operation(report: smoke.SmokeReport) -> None:
    assert report.compared == [
        "floor request 0",
        "O1 request 0",
        "O1 request 1",
        "O1 request 599",
        "O2 request 0",
        "O2 request 1",
        "O2 request 23",
        "O3 request 0",
        "R1 request 0",
        "R1 request 1",
        "R1 request 599",
        "O2 first=10 request 0",
        "O4 request 0",
        "O4 request 1",
    ]


@pytest.mark.parametrize("operation", [op.name for op in OPERATIONS if op.name != "floor"], ids=str)
def test_rest_peer_needs_no_more_statements_than_the_api(
    report: smoke.SmokeReport, operation: str
) -> None:
    rest = _case(report, operation, Peer.REST).statements_per_request
    assert 1 <= rest <= _case(report, operation, Peer.API).statements_per_request


def test_the_floor_case_reads_nothing(report: smoke.SmokeReport) -> None:
    for peer in Peer:
        assert _case(report, "floor", peer).statements_per_request == 0


def test_naive_peer_pays_one_statement_per_parent_where_the_api_batches(
    report: smoke.SmokeReport,
) -> None:
    # O3: 1 page of reps + 20 customer pages + 400 reps + 400 histories.
    assert _case(report, "O3", Peer.NAIVE).statements_per_request == 821
    assert _case(report, "O3", Peer.API).statements_per_request == 3


def test_the_peers_of_a_case_are_metered_in_turns(report: smoke.SmokeReport) -> None:
    """Each peer's CPU per request is the median of its rounds, one round each
    in turn (bench/measure.py), and every round served requests."""
    for case in report.cases:
        assert len(case.cpu_ms_rounds) == 2, case
        assert case.cpu_ms_per_request == round(statistics.median(case.cpu_ms_rounds), 3)
        assert case.single_requests >= 2 * 3
