"""Drives wrk (Debian's `wrk` package) with bench/lua/replay.lua and reads its result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.credentials import credentials
from bench.operations import HttpRequest

DEBIAN_PACKAGE = "wrk"
REPLAY_SCRIPT = Path(__file__).resolve().parent / "lua" / "replay.lua"
_RESULT_PREFIX = "BENCH_RESULT "


class WrkMissingError(RuntimeError):
    pass


def ensure_wrk() -> str:
    """The path of wrk; as root, apt-get installs the package when it is missing."""
    found = shutil.which("wrk")
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise WrkMissingError(
            f"wrk is not installed: install the Debian package {DEBIAN_PACKAGE!r}"
            f" (apt-get install -y {DEBIAN_PACKAGE})"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", DEBIAN_PACKAGE], check=True, env=env)
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissingError(f"apt-get installed {DEBIAN_PACKAGE!r} but wrk is not on PATH")
    return found


def wrk_version(wrk: str) -> str:
    # wrk -v prints its version and usage, and exits 1.
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    first_line = done.stdout.splitlines()[0] if done.stdout else "unknown"
    return first_line.split(" Copyright")[0].strip()


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    sent: int
    failed: int
    duration_s: float
    socket_errors: int
    status_errors: int
    timeouts: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    first_failure: str

    @property
    def ok_per_s(self) -> float:
        """Answers without an error per second (failed ones are counted apart)."""
        return (self.requests - self.failed) / self.duration_s if self.duration_s else 0.0

    @property
    def problems(self) -> list[str]:
        """Trouble with the run itself; failed answers are a result, see `failed`."""
        found = []
        if self.requests == 0:
            found.append("no request completed")
        if self.socket_errors or self.status_errors:
            found.append(f"{self.socket_errors} socket and {self.status_errors} status errors")
        if self.timeouts:
            found.append(f"{self.timeouts} timeouts")
        return found


def write_plan(requests: Sequence[HttpRequest], path: Path) -> Path:
    path.write_text("".join(request.plan_line() + "\n" for request in requests))
    return path


def run_wrk(
    wrk: str,
    *,
    base_url: str,
    plan: Path,
    connections: int,
    threads: int,
    duration_s: float,
    timeout_s: float = 60.0,
) -> WrkResult:
    command = [
        wrk,
        f"--connections={connections}",
        f"--threads={min(threads, connections)}",
        f"--duration={max(1, round(duration_s))}s",
        f"--timeout={round(timeout_s)}s",
        f"--script={REPLAY_SCRIPT}",
        base_url,
        "--",
        str(plan),
    ]
    env = {**os.environ, "BENCH_AUTHORIZATION": credentials().authorization}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith(_RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    raw = json.loads(lines[-1].removeprefix(_RESULT_PREFIX))
    return WrkResult(
        requests=raw["requests"],
        sent=raw["sent"],
        failed=raw["failed"],
        duration_s=raw["duration_us"] / 1e6,
        socket_errors=raw["socket_errors"],
        status_errors=raw["status_errors"],
        timeouts=raw["timeouts"],
        p50_ms=raw["p50_us"] / 1e3,
        p90_ms=raw["p90_us"] / 1e3,
        p99_ms=raw["p99_us"] / 1e3,
        max_ms=raw["max_us"] / 1e3,
        first_failure=raw["first_failure"],
    )
