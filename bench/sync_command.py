"""One `graphql-api` sync command as its own process, as an operator runs it: its wall time
(start-up included), its CPU time and peak RSS (VmHWM; both read every 50 ms while
it runs), what it printed, and the counts and rate it reported."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import proc
from bench.servers import REPO_ROOT

_TOTAL = re.compile(r"total: inserted (\d+), updated (\d+), unchanged (\d+), rejected (\d+)")
_COMPARED = re.compile(r"^\w+: \d+ in MySQL, (\d+) in DynamoDB", re.MULTILINE)
_DELIVERED = re.compile(r"delivered (\d+) changes(?: \((\d+) DynamoDB items)?")
# The rate a command reports of itself: from its first store call to its last.
_OWN_RATE = re.compile(r"[(, ](\d+) items/s\)")
# A progress line: the items so far and their rate, from the first store call (a line is
# written as a page or batch is done, so the rate ends on one).
_PROGRESS = re.compile(r"(\d+) items, (\d+)/s")
_POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class CommandRun:
    args: tuple[str, ...]
    seconds: float
    peak_rss_mib: float
    # User + system, as last read while it ran.
    cpu_seconds: float
    # None when the run was stopped at its time limit.
    exit_code: int | None
    stdout: str
    stderr: str

    @property
    def stopped(self) -> bool:
        return self.exit_code is None

    def items(self) -> int | None:
        """The items the command went through, from its report (or, when it was
        stopped, from its last progress line); None when it said nothing countable."""
        if self.stopped:
            found = _PROGRESS.findall(self.stderr)
            return int(found[-1][0]) if found else None
        if total := _TOTAL.search(self.stdout):
            return sum(int(count) for count in total.groups())
        if compared := _COMPARED.findall(self.stdout):
            return sum(int(count) for count in compared)
        return None

    def own_rate(self) -> float | None:
        """Items/s as the command reports it (without the interpreter's start-up), or
        when it was stopped, as its last progress line did; None when it reports none."""
        if self.stopped:
            progress = _PROGRESS.findall(self.stderr)
            return float(progress[-1][1]) if progress else None
        found = _OWN_RATE.search(self.stdout)
        return None if found is None else float(found[1])

    def delivered(self) -> tuple[int, int | None] | None:
        """`outbox drain`: the changes delivered and the DynamoDB items written for them
        (None where the relay does not say)."""
        found = _DELIVERED.search(self.stdout)
        if found is None:
            return None
        return int(found[1]), None if found[2] is None else int(found[2])

    def describe(self) -> str:
        tail = (self.stdout + self.stderr).strip().splitlines()[-5:]
        state = "stopped at the time limit" if self.stopped else f"exit {self.exit_code}"
        return f"`graphql-api {' '.join(self.args)}`: {state}; " + " / ".join(tail)


def run_sync_command(
    args: Sequence[str], *, env: Mapping[str, str], work: Path, time_limit_s: float | None
) -> CommandRun:
    """Runs `graphql-api ARGS` to its end (or kills it at `time_limit_s`)."""
    out_path, err_path = work / "command.out", work / "command.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "graphql_api", *args],
            # The package of this tree, whatever is installed; files it writes (rejects)
            # go to the run's directory.
            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO_ROOT), **env},
            cwd=work,
            stdout=out,
            stderr=err,
        )
        started = time.perf_counter()
        deadline = None if time_limit_s is None else started + time_limit_s
        peak_bytes, cpu_s = 0, 0.0
        stopped = False
        while process.poll() is None:
            # Ended between poll() and the read: gone, or a zombie without memory.
            with contextlib.suppress(OSError, RuntimeError):
                cpu_s = proc.cpu_seconds(process.pid)
                peak_bytes = max(peak_bytes, proc.peak_rss_bytes(process.pid))
            if deadline is not None and time.perf_counter() > deadline:
                process.kill()
                process.wait()
                stopped = True
                break
            time.sleep(_POLL_S)
        seconds = time.perf_counter() - started
    return CommandRun(
        args=tuple(args),
        seconds=seconds,
        peak_rss_mib=peak_bytes / 2**20,
        cpu_seconds=cpu_s,
        exit_code=None if stopped else process.returncode,
        stdout=out_path.read_text(),
        stderr=err_path.read_text(),
    )
