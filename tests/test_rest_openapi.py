"""schemathesis runs every REST operation of openapi.json against the real app.

Valid and invalid inputs (its positive and negative modes; the examples,
coverage, fuzzing and stateful phases, following the document's links), sent
over HTTP to the app serving MariaDB with authentication on and a manager's
token. The run must find no 5xx, no answer whose status, content type, headers
or body the document does not allow, and no invalid input accepted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer
from tests.utils.jwt_tokens import auth_env, claims, hs256
from tests.utils.mariadb import reseed

pytestmark = pytest.mark.long_running

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
OPERATIONS = 4
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# Per operation and phase; a fixed seed makes a failure reproducible.
MAX_EXAMPLES = 100
SEED = 13


@dataclass(frozen=True)
class Finished:
    process: subprocess.CompletedProcess[str]
    report: dict[str, Any]

    def explained(self) -> str:
        """What schemathesis printed about its failures, for an assertion's message."""
        return self.process.stdout[-8000:] + self.process.stderr[-2000:]


@pytest.fixture(scope="module")
def run(mariadb: MariaDBServer, tmp_path_factory: pytest.TempPathFactory) -> Finished:
    """One schemathesis run against the app on the demo rows (its examples name them)."""
    reseed(mariadb)
    report = tmp_path_factory.mktemp("schemathesis") / "report.json"
    token = hs256(claims(subject="schemathesis", roles=("manager",)))
    with serve(mysql_env(mariadb, **auth_env())) as app:
        finished = _schemathesis(app.base_url, token, report)
    return Finished(finished, json.loads(report.read_text()))


def _schemathesis(base_url: str, token: str, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        ",".join(PHASES),
        "--mode",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    # Run where the report goes: schemathesis keeps its example database in the cwd.
    return subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=report.parent
    )


def test_schemathesis_tests_every_operation_in_every_phase(run: Finished) -> None:
    operations = run.report["operations"]
    assert (operations["tested"], operations["errored"]) == (OPERATIONS, 0), run.explained()
    phases = {name: phase["status"] for name, phase in run.report["phases"].items()}
    assert phases == dict.fromkeys(PHASES, "success"), run.explained()


def test_schemathesis_finds_no_failure(run: Finished) -> None:
    cases = run.report["test_cases"]
    # The figures the closing note of issue 13 quotes (pytest -s shows them).
    print(
        f"schemathesis: {OPERATIONS} operations, {cases['generated']} test cases,"
        f" {cases['unique_failures']} failures"
    )
    assert run.report["failures"] == [], run.explained()
    assert run.report["errors"] == [], run.explained()
    assert (cases["with_failures"], cases["errored"]) == (0, 0), run.explained()
    assert run.process.returncode == 0, run.explained()


def test_valid_inputs_reach_every_operation(run: Finished) -> None:
    """Not only refusals: each operation answered some generated requests with a 2xx."""
    assert len(run.report["valid_rates"]) == OPERATIONS
    for operation, phases in run.report["valid_rates"].items():
        accepted = sum(phase["accepted"] for phase in phases.values())
        assert accepted > 0, f"{operation}: no generated request was accepted"
