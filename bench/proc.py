"""What /proc tells of a process the bench runs: its CPU time and its peak RSS."""

from __future__ import annotations

import os
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name, which may hold spaces, closed by ")".
    after_name = stat.rsplit(")", 1)[1].split()
    return (int(after_name[11]) + int(after_name[12])) / _CLOCK_TICKS


def run_time_seconds(pid: int) -> float:
    """CPU time of the process's threads so far, to the nanosecond (schedstat).

    /proc/<pid>/stat counts in clock ticks (10 ms): a meter's round of a few
    hundred milliseconds read it with up to 5% error either way, as much as the
    differences it is there to show. The scheduler's own count is exact, but per
    thread and only for threads alive now: for a server whose threads live as long
    as it does (the event loop's, the pool's), not for a process whose threads come
    and go (there, cpu_seconds).
    """
    total_ns = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total_ns += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended between the listing and the read
    return total_ns / 1e9


def peak_rss_bytes(pid: int) -> int:
    """The process's peak RSS so far (VmHWM: its own address space's, which exec
    starts afresh; wait4's ru_maxrss also counts the parent's pages from before it)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")
