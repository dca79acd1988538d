"""python -m bench run | smoke | instructions | feed | migration (make bench,
bench-smoke, bench-instructions, bench-feed, bench-migration)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import feed_latency, instructions, smoke
from bench.data import SCALES
from bench.database import Database
from bench.migration import (
    LARGE_SCAN_LIMIT_S,
    RAW_WINDOW_S,
    MigrationBenchConfig,
    run_migration_bench,
)
from bench.migration_report import markdown as migration_markdown
from bench.operations import SCALING_FIRSTS
from bench.report import markdown
from bench.runner import BenchConfig, git_commit, loaded_database, run_benchmark, write_results
from bench.servers import server_env
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
    instructions = commands.add_parser(
        "instructions",
        help="machine instructions per request, API and REST peer (make bench-instructions)",
    )
    instructions.add_argument("--output-dir", type=Path, default=Path("bench/results"))
    feed = commands.add_parser(
        "feed", help="the live feed's delivery latency to N subscribers (make bench-feed)"
    )
    feed.add_argument("--subscribers", type=int, default=1_000)
    feed.add_argument("--interval", type=float, default=0.1, help="seconds between changes")
    feed.add_argument("--duration", type=float, default=30.0, help="seconds of changes")
    feed.add_argument("--poll-interval", type=float, help="the server's feed poll interval")
    feed.add_argument("--output-dir", type=Path, default=Path("bench/results"))
    migration = commands.add_parser(
        "migration",
        help="the migrate, verify and outbox commands against the stores' raw limits"
        " (make bench-migration)",
    )
    # smoke: a few hundred customers, to see that the harness works.
    migration.add_argument("--scale", choices=sorted(SCALES), default="default")
    migration.add_argument(
        "--raw-window",
        type=float,
        default=RAW_WINDOW_S,
        help="seconds a raw reading of moto may run (0: to the end)",
    )
    migration.add_argument(
        "--scan-limit",
        type=float,
        default=None,
        help="seconds verify and migrate dynamodb-to-mysql may run; then stopped, rated by"
        f" their progress (default: to the end; {LARGE_SCAN_LIMIT_S:g} at scale large)",
    )
    migration.add_argument(
        "--copy-limit",
        type=float,
        default=None,
        help="seconds migrate mysql-to-dynamodb may run; then stopped (default: to the end)",
    )
    migration.add_argument("--output-dir", type=Path, default=Path("bench/results"))
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


def _instructions(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="bench-instructions-") as temporary,
        loaded_database(Path(temporary), SCALES["default"]) as (database, _),
    ):
        env = server_env(database.env(), max_page_size=max(SCALING_FIRSTS))
        counts = instructions.count_all(env)
    table = instructions.table(counts)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / f"instructions-{stamp}.md"
    path.write_text(
        f"# Machine instructions per request, {started:%Y-%m-%d %H:%M} UTC, commit"
        f" {git_commit()}\n\nCommand: `make bench-instructions` (bench/instructions.py).\n\n"
        + table
    )
    sys.stdout.write(table)
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


def _feed(args: argparse.Namespace) -> int:
    config = feed_latency.FeedBenchConfig(
        subscribers=args.subscribers,
        interval_s=args.interval,
        duration_s=args.duration,
        poll_interval_s=args.poll_interval,
        output_dir=args.output_dir,
    )
    return feed_latency.main(config)


def _migration(args: argparse.Namespace) -> int:
    scan_limit = args.scan_limit
    if scan_limit is None and args.scale == "large":
        scan_limit = LARGE_SCAN_LIMIT_S
    config = MigrationBenchConfig(
        scale=SCALES[args.scale],
        output_dir=args.output_dir,
        raw_window_s=args.raw_window or None,
        scan_limit_s=scan_limit,
        copy_limit_s=args.copy_limit,
    )
    report = run_migration_bench(config)
    stamp = report["meta"]["date"].replace("-", "").replace(":", "")
    stem = args.output_dir / f"migration-{report['meta']['scale']}-{stamp}"
    args.output_dir.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    text = migration_markdown(report)
    stem.with_suffix(".md").write_text(text)
    sys.stdout.write(text)
    print(f"\nwrote {stem}.json and {stem}.md", file=sys.stderr)
    return 1 if report["problems"] else 0


def _report(args: argparse.Namespace) -> int:
    sys.stdout.write(markdown(json.loads(args.results.read_text())))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {
        "run": _run,
        "smoke": lambda _: _smoke(),
        "instructions": _instructions,
        "feed": _feed,
        "migration": _migration,
        "report": _report,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
