"""The migration bench (make bench-migration) still runs from end to end, on a few rows.

Not a timed test: every raw limit and every command is measured, each command's own
check held (the storm drained, verify agreed, every command exited 0), and the
report renders. The rates are whatever this machine gives; none is asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.data import Scale
from bench.migration import MigrationBenchConfig, _Run, run_migration_bench
from bench.migration_report import markdown
from devstack.ports import free_port

pytestmark = pytest.mark.long_running

COMMANDS = [
    "migrate mysql-to-dynamodb",
    "outbox drain (60 mutations)",
    "outbox drain --workers 2 (60 mutations)",
    "verify",
    "migrate dynamodb-to-mysql",
]


def test_the_migration_bench_measures_every_command_against_its_limit(tmp_path: Path) -> None:
    scale = Scale("tiny", sales_reps=3, customers_per_rep=8, scaling_rep_customers=4)
    report = run_migration_bench(
        MigrationBenchConfig(scale=scale, output_dir=tmp_path, storm_mutations=60)
    )
    assert report["problems"] == []
    assert [case["command"] for case in report["commands"]] == COMMANDS
    for case in report["commands"]:
        assert case["items"] > 0
        assert case["ratio"] > 0
        assert case["peak_rss_mib"] > 0
    raws = set(report["raw"])
    assert {
        "BatchWriteItem",
        "MariaDB SELECT",
        "MariaDB INSERT",
        "Scan, sequential, before verify",
        "Scan, 4 segments, before verify",
        "Scan around verify",
        "Scan around migrate dynamodb-to-mysql",
    } < raws
    # After the first reading, only the faster kind of Scan is read again, after each.
    again = {name for name in raws if name.endswith(("after verify", "dynamodb-to-mysql"))}
    again.discard("Scan around migrate dynamodb-to-mysql")
    kinds = {name.split(", ")[1] for name in again}
    assert len(again) == 2
    assert len(kinds) == 1
    assert len(raws) == 9
    # The rows the tiny scale makes: the reps with the scaling rep, and every customer.
    assert report["meta"]["rows"]["customers"] == 3 * 8 + 4
    assert "| migrate dynamodb-to-mysql | " in markdown(report)


def test_a_command_stopped_at_its_time_limit_is_no_problem(tmp_path: Path) -> None:
    """A command the bench stops at its time limit (--scan-limit, --copy-limit) did
    what was asked; one that ends with an error is reported."""
    scale = Scale("tiny", sales_reps=1, customers_per_rep=1, scaling_rep_customers=1)
    run = _Run(MigrationBenchConfig(scale=scale, output_dir=tmp_path), tmp_path, env={})
    # `serve` (memory mode, a free port) runs until it is stopped.
    served = run.command("serve", ["serve", "--port", str(free_port())], time_limit_s=1.0)
    assert served.stopped
    assert run.problems == []
    failed = run.command("nonsense", ["no-such-command"])
    assert failed.exit_code not in (None, 0)
    assert run.problems == [failed.describe()]
