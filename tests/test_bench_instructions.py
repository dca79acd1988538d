"""The instruction meter's parts that run without valgrind: the driver still drives
both peers' apps to 200s, and the meter reads valgrind's total as valgrind prints it.
valgrind itself runs in `make bench-instructions`, never in the suite (it is slow)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench import instructions, smoke
from bench.data import load
from bench.database import Database
from bench.operations import OPERATIONS, Peer
from bench.servers import REPO_ROOT, server_env
from devstack.mariadb import MariaDBServer

pytestmark = pytest.mark.long_running


@pytest.fixture(scope="module")
def env(mariadb: MariaDBServer) -> dict[str, str]:
    # Its own database on the session's server, loaded with the smoke rows.
    database = Database(
        mariadb.host, mariadb.port, mariadb.user, mariadb.password, "bench_instructions"
    )
    database.recreate()
    load(database, smoke.SCALE)
    return server_env(database.env(), max_page_size=100)


@pytest.mark.parametrize("peer", [Peer.API, Peer.REST], ids=lambda peer: peer.value)
@pytest.mark.parametrize("operation", [operation.name for operation in OPERATIONS], ids=str)
def test_the_driver_sends_each_operation_to_each_peer(
    env: dict[str, str], operation: str, peer: Peer
) -> None:
    command = ["bench.asgi_driver", operation, peer.value, "measured", "2", smoke.SCALE.name]
    done = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-800:]


def test_the_meter_reads_valgrinds_total() -> None:
    printed = "==4242== \n==4242== I   refs:      3,244,906,523\n"
    found = instructions._TOTAL.search(printed)
    assert found is not None
    assert found.group(1) == "3,244,906,523"


def test_the_table_has_a_row_per_operation_with_the_ratio() -> None:
    counts = [
        instructions.Count(operation.name, peer, 2e6 if peer == "api" else 1e6)
        for operation in OPERATIONS
        for peer in ("api", "rest")
    ]
    rows = instructions.table(counts).splitlines()[2:]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [op.name for op in OPERATIONS]
    assert all(row.endswith("| 2.000 | 1.000 | 2.00 |") for row in rows)
