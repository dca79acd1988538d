"""Machine instructions per request: a meter this machine's noise cannot move.

Requests/s and CPU time on a shared 2-core VM move by a third between runs of
one build, which hides a change of 10%. Counted instructions do not move. Each
peer's app is driven in-process (bench/asgi_driver.py: its ASGI callable, no
HTTP server, alike for both peers) under valgrind's cachegrind, once with FEW
and once with MANY requests of an operation; the difference over MANY - FEW is
one request's cost, start-up and warm-up cancelled out. MySQL's own work is
another process and not counted; neither is the HTTP server's, the same for
both peers. Instructions are not time (a cache miss costs more than an add),
but the ratio of two peers' counts for the same answers is the question the
speed issue asks, answered without noise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.operations import OPERATIONS, Peer
from bench.servers import REPO_ROOT

# Requests per run (few, many): O3 costs fifty times O1 under valgrind.
_COUNTS = {
    "floor": (50, 250),
    "O1": (20, 120),
    "O2": (20, 120),
    "O3": (5, 25),
    "O4": (20, 120),
    "R1": (20, 120),
}
_PEERS = (Peer.API, Peer.REST)
_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


@dataclass(frozen=True, slots=True)
class Count:
    operation: str
    peer: str
    instructions_per_request: float

    def as_json(self) -> dict[str, object]:
        return {
            "operation": self.operation,
            "peer": self.peer,
            "instructions_per_request": round(self.instructions_per_request),
        }


def ensure_valgrind() -> str:
    found = shutil.which("valgrind")
    if found is None:
        raise SystemExit("the instruction meter needs valgrind: apt-get install valgrind")
    return found


def _instructions(valgrind: str, env: Mapping[str, str], *arguments: str) -> int:
    done = subprocess.run(
        [
            valgrind,
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.asgi_driver",
            *arguments,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    found = _TOTAL.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"asgi_driver {' '.join(arguments)}: {done.stderr[-600:]}")
    return int(found.group(1).replace(",", ""))


def _count(valgrind: str, env: Mapping[str, str], operation: str, peer: Peer) -> Count:
    few, many = _COUNTS[operation]
    # Two phases of the plan: an operation that writes moves other customers in each.
    low = _instructions(valgrind, env, operation, peer.value, "warmup", str(few))
    high = _instructions(valgrind, env, operation, peer.value, "measured", str(many))
    return Count(operation, peer.value, (high - low) / (many - few))


def count_all(env: Mapping[str, str]) -> list[Count]:
    """Every operation, the API and the REST peer, two at a time (one per core)."""
    valgrind = ensure_valgrind()
    jobs = [(operation.name, peer) for operation in OPERATIONS for peer in _PEERS]
    with ThreadPoolExecutor(max_workers=max(1, len(os.sched_getaffinity(0)))) as pool:
        return list(pool.map(lambda job: _count(valgrind, env, *job), jobs))


def table(counts: list[Count]) -> str:
    by_key = {(count.operation, count.peer): count.instructions_per_request for count in counts}
    lines = [
        "| op | api Minstr/req | rest Minstr/req | api / rest |",
        "|---|---:|---:|---:|",
    ]
    for operation in OPERATIONS:
        api, rest = by_key[(operation.name, "api")], by_key[(operation.name, "rest")]
        ratio = api / rest
        lines.append(f"| {operation.name} | {api / 1e6:.3f} | {rest / 1e6:.3f} | {ratio:.2f} |")
    return "\n".join(lines) + "\n"
