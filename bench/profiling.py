"""Where a request's CPU time goes: py-spy samples the API server under wrk load.

py-spy reads the server's memory from outside (no code change, no restart);
its raw output is one line per distinct stack, "frame;frame;...;leaf count".
Samples are sorted into stages of a GraphQL request by the frames on the
stack, and each stage's share is turned into milliseconds per request with
the CPU time per request measured for the same operation.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# A sample belongs to the first stage whose pattern matches any frame on its
# stack: validation and parsing never run inside execution, the SQL driver is
# compiled (py-spy shows its time in the calling store method), and loader
# batches run as tasks of their own.
_STAGES = (
    ("GraphQL validation (graphql-core)", re.compile(r"\(graphql/validation/")),
    ("GraphQL parsing (graphql-core)", re.compile(r"\(graphql/language/(parser|lexer)")),
    ("SQL: stores + asyncmy driver", re.compile(r"\((graphql_api/stores|asyncmy)/")),
    ("DataLoader batching", re.compile(r"\((aiodataloader/|graphql_api/loaders)")),
    ("GraphQL execution: fields, resolvers", re.compile(r"\(graphql/execution/")),
    ("JSON encoding", re.compile(r"\((json/|graphql_api/web/json_body)")),
    ("fast path: plans, response dicts", re.compile(r"\(graphql_api/fastpath/")),
    ("strawberry request handling", re.compile(r"\(strawberry/")),
    ("HTTP (uvicorn, starlette)", re.compile(r"\((uvicorn|starlette|httptools)/")),
)
_OTHER = "event loop (uvloop, asyncio) and other"
_TOP = 12


@dataclass(frozen=True, slots=True)
class Share:
    name: str
    percent: float
    ms_per_request: float


@dataclass(frozen=True, slots=True)
class Profile:
    operation: str
    samples: int
    cpu_ms_per_request: float
    stages: list[Share]
    # Functions by the samples spent in their own code (compiled callees included).
    top_self: list[Share]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def largest(self) -> Share:
        return self.stages[0]


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


def start_recording(pid: int, *, duration_s: float, output: Path) -> subprocess.Popen[bytes]:
    spy = py_spy()
    if spy is None:
        raise RuntimeError("py-spy is not installed (it is a dev dependency)")
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(duration_s))),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish_recording(spy: subprocess.Popen[bytes]) -> None:
    _, stderr = spy.communicate(timeout=120)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed: {stderr.decode(errors='replace')[-500:]}")


def _stacks(raw: Path) -> Iterable[tuple[list[str], int]]:
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def _stage(frames: list[str]) -> str:
    stack = ";".join(frames)
    for name, pattern in _STAGES:
        if pattern.search(stack):
            return name
    return _OTHER


_LINE = re.compile(r":\d+\)$")


def _function(frame: str) -> str:
    """`name (file.py:12)` -> `name (file.py)`: one entry per function, not per line."""
    return _LINE.sub(")", frame)


def summarize(raw: Path, *, operation: str, cpu_ms_per_request: float) -> Profile:
    stages: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for frames, count in _stacks(raw):
        total += count
        stages[_stage(frames)] += count
        own[_function(frames[-1])] += count

    def shares(counter: Counter[str], limit: int | None = None) -> list[Share]:
        return [
            Share(name, round(100 * n / total, 1), round(cpu_ms_per_request * n / total, 3))
            for name, n in counter.most_common(limit)
        ]

    return Profile(
        operation=operation,
        samples=total,
        cpu_ms_per_request=cpu_ms_per_request,
        stages=shares(stages) if total else [],
        top_self=shares(own, _TOP) if total else [],
    )
