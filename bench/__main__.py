"""python -m bench run | smoke (make bench, make bench-smoke)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import smoke
from bench.data import SCALES
from bench.database import Database
from bench.report import markdown
from bench.runner import BenchConfig, run_benchmark, write_results
from devstack.mariadb import MariaDBServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="the full benchmark (make bench)")
    run.add_argument("--scale", choices=sorted(set(SCALES) - {"smoke"}), default="default")
    run.add_argument("--connections", type=int, default=32)
    run.add_argument("--threads", type=int, default=1, help="wrk threads")
    run.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per case")
    run.add_argument("--duration", type=float, default=8.0, help="seconds per case")
    run.add_argument("--o3-duration", type=float, default=12.0, help="seconds for O3 cases")
    run.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    run.add_argument("--output-dir", type=Path, default=Path("bench/results"))
    commands.add_parser("smoke", help="every operation and peer briefly (make bench-smoke)")
    report = commands.add_parser("report", help="print the markdown of a results JSON file")
    report.add_argument("results", type=Path)
    return parser


def _run(args: argparse.Namespace) -> int:
    config = BenchConfig(
        scale=SCALES[args.scale],
        output_dir=args.output_dir,
        connections=args.connections,
        threads=args.threads,
        warmup_s=args.warmup,
        duration_s=args.duration,
        o3_duration_s=args.o3_duration,
        profile=not args.no_profile,
    )
    report = run_benchmark(config)
    json_path, md_path = write_results(report, config.output_dir)
    sys.stdout.write(markdown(report))
    print(f"\nwrote {json_path} and {md_path}", file=sys.stderr)
    problems = [p for case in report["cases"] + report["scaling"] for p in case["problems"]]
    return 1 if problems else 0


def _smoke() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-smoke-") as temporary:
        work = Path(temporary)
        with MariaDBServer(base_dir=work / "mariadb") as server:
            database = Database(
                server.host, server.port, server.user, server.password, server.database
            )
            report = smoke.check(database, work)
    print("\n".join(smoke.describe(report)))
    return 1 if report.problems else 0


def _report(args: argparse.Namespace) -> int:
    sys.stdout.write(markdown(json.loads(args.results.read_text())))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return {"run": _run, "smoke": lambda _: _smoke(), "report": _report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
