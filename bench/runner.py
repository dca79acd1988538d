"""`make bench`: the API and both peers, every operation, one run, one report."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cases import CasePlans, case_plans, scaling_plans
from bench.data import SCALES, LoadedCounts, Scale, load
from bench.database import Database, grow_buffer_pool
from bench.measure import (
    CaseResult,
    LoadPlan,
    LoadShape,
    Metered,
    MeterShape,
    measure_case,
    meter_in_turns,
)
from bench.operations import OPERATIONS, SCALING_FIRSTS, Peer
from bench.profiling import Profile, finish_recording, start_recording, summarize
from bench.report import markdown
from bench.servers import REPO_ROOT, Servers, server_env
from bench.wrk import ensure_wrk, run_wrk, write_plan, wrk_version
from devstack.mariadb import MariaDBServer

_PROFILED = ("O1", "O2", "O3")
# One-at-a-time metering in turns (bench/measure.py): rounds, and each peer's turn.
METER_ROUNDS = 5
_TURN = MeterShape(min_requests=3, min_seconds=0.4)
_SCALING_TURN = MeterShape(min_requests=2, min_seconds=0.25)


@dataclass(frozen=True, slots=True)
class BenchConfig:
    scale: Scale
    output_dir: Path
    connections: int = 32
    threads: int = 1
    warmup_s: float = 2.0
    duration_s: float = 8.0
    # O3 is slow enough in the naive peer that 32 requests in flight take ~7 s.
    o3_duration_s: float = 12.0
    profile: bool = True
    profile_s: float = 6.0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


class _Run:
    """Fresh servers for each operation, so each peak RSS belongs to its operation
    (Python keeps memory it once used) and no case inherits another's pools."""

    def __init__(
        self, config: BenchConfig, wrk: str, database: Database, work: Path, env: dict[str, str]
    ) -> None:
        self.config = config
        self.wrk = wrk
        self.database = database
        self.work = work
        self.env = env
        self.started = time.monotonic()

    def servers(self) -> Servers:
        return Servers(self.env, self.work)

    def _load_plan(self, name: str, plans: CasePlans, duration_s: float) -> LoadPlan:
        shape = LoadShape(
            connections=self.config.connections,
            threads=self.config.threads,
            warmup_s=self.config.warmup_s,
            duration_s=duration_s,
        )
        return LoadPlan(
            warmup=write_plan(plans.warmup, self.work / f"{name}.warmup.plan"),
            measured=write_plan(plans.measured, self.work / f"{name}.plan"),
            shape=shape,
        )

    def _progress(self, label: str, result: CaseResult) -> CaseResult:
        failed = [f"{result.failed} failed answers"] if result.failed else []
        state = "; ".join(result.problems + failed) or "ok"
        _say(f"[{time.monotonic() - self.started:5.0f} s] {label}: {state}")
        return result

    def cases(self) -> list[CaseResult]:
        results = []
        for operation in OPERATIONS:
            duration = self.config.o3_duration_s if operation.name == "O3" else None
            with self.servers() as servers:
                metered = []
                for peer, server in servers.by_peer.items():
                    plans = case_plans(operation.name, peer, self.config.scale)
                    name = f"{operation.name}-{peer.value}"
                    load_plan = self._load_plan(name, plans, duration or self.config.duration_s)
                    result = measure_case(
                        self.wrk,
                        operation=operation.name,
                        server=server,
                        database=self.database,
                        load=load_plan,
                        meter_plan=plans.meter,
                        meter=None,
                    )
                    metered.append(Metered(server, plans.meter, result))
                meter_in_turns(metered, self.database, rounds=METER_ROUNDS, meter=_TURN)
                for part in metered:
                    results.append(
                        self._progress(f"{operation.name}-{part.server.peer.value}", part.result)
                    )
        return results

    def scaling(self, servers: Servers) -> list[CaseResult]:
        results = []
        for first in SCALING_FIRSTS:
            metered = []
            for peer, server in servers.by_peer.items():
                plans = scaling_plans(peer, first)
                result = CaseResult(operation="O2", peer=peer.value, variant=f"first={first}")
                metered.append(Metered(server, plans.meter, result))
            meter_in_turns(metered, self.database, rounds=METER_ROUNDS, meter=_SCALING_TURN)
            for part in metered:
                results.append(
                    self._progress(f"O2 first={first} {part.server.peer.value}", part.result)
                )
        return results

    def profiles(self, servers: Servers, cases: list[CaseResult]) -> list[Profile]:
        api = servers.by_peer[Peer.API]
        found = []
        for operation in _PROFILED:
            plans = case_plans(operation, Peer.API, self.config.scale)
            plan = write_plan(plans.measured, self.work / f"{operation}-profile.plan")
            raw = self.work / f"{operation}-profile.raw"
            api.wait_until_idle()
            spy = start_recording(api.pid, duration_s=self.config.profile_s, output=raw)
            run_wrk(
                self.wrk,
                base_url=api.base_url,
                plan=plan,
                connections=self.config.connections,
                threads=self.config.threads,
                duration_s=self.config.profile_s,
            )
            finish_recording(spy)
            cpu_ms = next(
                case.cpu_ms_per_request
                for case in cases
                if case.operation == operation and case.peer == Peer.API.value
            )
            found.append(summarize(raw, operation=operation, cpu_ms_per_request=cpu_ms))
            _say(f"[{time.monotonic() - self.started:5.0f} s] profiled {operation}")
        return found


@contextmanager
def loaded_database(work: Path, scale: Scale) -> Iterator[tuple[Database, LoadedCounts]]:
    """A throwaway MariaDB under `work` holding the scale's rows."""
    with MariaDBServer(base_dir=work / "mariadb") as mariadb:
        database = Database(
            mariadb.host, mariadb.port, mariadb.user, mariadb.password, mariadb.database
        )
        grow_buffer_pool(database, mib=512)
        database.recreate()
        yield database, load(database, scale)


def run_benchmark(config: BenchConfig) -> dict[str, Any]:
    wrk = ensure_wrk()
    started = time.monotonic()
    # Other work on the machine shows in every number; the load average tells how much.
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-") as temporary:
        work = Path(temporary)
        with loaded_database(work, config.scale) as (database, counts):
            _say(f"[{time.monotonic() - started:5.0f} s] loaded {counts}")
            env = server_env(database.env(), max_page_size=max(SCALING_FIRSTS))
            run = _Run(config, wrk, database, work, env)
            cases = run.cases()
            with run.servers() as servers:
                scaling = run.scaling(servers)
                profiles = run.profiles(servers, cases) if config.profile else []
            meta = {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "commit": git_commit(),
                "scale": config.scale.name,
                "rows": counts.as_json(),
                "connections": config.connections,
                "wrk_threads": config.threads,
                "warmup_s": config.warmup_s,
                "duration_s": config.duration_s,
                "o3_duration_s": config.o3_duration_s,
                "cpus": _cpu_count(),
                "python": platform.python_version(),
                "mariadb": database.server_version(),
                "wrk": wrk_version(wrk),
            }
    meta["total_s"] = round(time.monotonic() - started, 1)
    meta["load_average"] = {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)}
    return {
        "meta": meta,
        "cases": [case.as_json() for case in cases],
        "scaling": [case.as_json() for case in scaling],
        "profiles": [profile.as_json() for profile in profiles],
    }


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def write_results(report: dict[str, Any], output_dir: Path) -> tuple[Path, Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = report["meta"]["date"].replace("-", "").replace(":", "")
    stem = output_dir / f"{report['meta']['scale']}-{stamp}"
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path = stem.with_suffix(".md")
    md_path.write_text(markdown(report))
    return json_path, md_path


def default_config(scale_name: str, output_dir: Path) -> BenchConfig:
    return BenchConfig(scale=SCALES[scale_name], output_dir=output_dir)
