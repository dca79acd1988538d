"""The sync commands behind `graphql-api migrate|outbox|verify`: open, run, report, close."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from asyncmy.pool import Pool

from graphql_api.errors import ConfigError, GraphqlApiError
from graphql_api.resources import dynamodb_client, mysql_pool
from graphql_api.settings import DynamoDBSettings, MySQLSettings, load_settings
from graphql_api.sync.dynamodb_rows import count_items
from graphql_api.sync.dynamodb_to_mysql import migrate_dynamodb_to_mysql
from graphql_api.sync.migration import Migration, MigrationReport
from graphql_api.sync.mysql_rows import SPECS_BY_PHASE, count_rows
from graphql_api.sync.mysql_to_dynamodb import PAGE_ROWS, migrate_mysql_to_dynamodb
from graphql_api.sync.outbox import OutboxRelay
from graphql_api.sync.progress import Progress
from graphql_api.sync.rejects import RejectsFile
from graphql_api.sync.verify import verify

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb.client import DynamoDBClient

EXIT_REJECTS = 3
EXIT_DIFFERENCES = 4
# Parallel scan segments of `migrate dynamodb-to-mysql` and `verify` unless told. One,
# read ahead, keeps up with a store that answers one call at a time (moto, measured by
# make bench-migration); more help where reading is what limits (a large AWS table).
SCAN_SEGMENTS = 1
# `outbox drain` has the pool to itself; the server's relay shares it with requests and
# keeps to OutboxRelay's default.
DRAIN_WORKERS = 4


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _scan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--segments",
        type=_positive,
        default=SCAN_SEGMENTS,
        help=f"parallel scan segments, read at once (default {SCAN_SEGMENTS})",
    )
    parser.add_argument(
        "--page-size",
        type=_positive,
        default=None,
        help="items a Scan page holds at most (default: DynamoDB's pages of 1 MB)",
    )


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate = commands.add_parser("migrate", help="copy data between MySQL and DynamoDB")
    directions = migrate.add_subparsers(dest="direction", required=True)
    for direction in ("dynamodb-to-mysql", "mysql-to-dynamodb"):
        parser = directions.add_parser(direction, help=f"copy {direction.replace('-', ' ')}")
        if direction == "dynamodb-to-mysql":
            _scan_options(parser)
        else:
            parser.add_argument(
                "--segments",
                type=_positive,
                default=4,
                help="parallel segments of each table (CRC32 of the key; default 4)",
            )
            parser.add_argument(
                "--page-size",
                type=_positive,
                default=PAGE_ROWS,
                help=f"rows a MySQL page holds (default {PAGE_ROWS})",
            )
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
        parser.add_argument("--restart", action="store_true", help="ignore saved checkpoints")
        parser.add_argument(
            "--rejects",
            type=Path,
            default=Path(f"rejects-{direction}.jsonl"),
            help="JSON lines file for invalid items",
        )
    outbox = commands.add_parser("outbox", help="the outbox of changes for DynamoDB")
    drain = outbox.add_subparsers(dest="outbox_command", required=True).add_parser(
        "drain", help="deliver every pending change now, then exit"
    )
    drain.add_argument(
        "--workers",
        type=_positive,
        default=DRAIN_WORKERS,
        help=f"batches delivered at once, each on its own connection (default {DRAIN_WORKERS})",
    )
    check = commands.add_parser("verify", help="compare MySQL and DynamoDB; exit 0 if they agree")
    _scan_options(check)


@dataclass(frozen=True)
class _Targets:
    mysql: MySQLSettings
    dynamodb: DynamoDBSettings


def _targets() -> _Targets:
    env = dict(os.environ)
    # Both stores are needed whatever order the server reads them in.
    env.setdefault("GRAPHQL_API_STORES", "mysql,dynamodb")
    try:
        settings = load_settings(env)
    except ConfigError as error:
        sys.exit(f"graphql-api: configuration error: {error}")
    if settings.mysql is None or settings.dynamodb is None:
        sys.exit("graphql-api: this command needs RDS_ENDPOINT/RDS_USERNAME and DYNAMODB_TABLE")
    # Bulk pages take longer than a request's reads: a request-sized timeout would
    # turn a slow page into a failure.
    return _Targets(
        replace(settings.mysql, query_timeout_s=max(settings.mysql.query_timeout_s, 60.0)),
        replace(settings.dynamodb, timeout_s=max(settings.dynamodb.timeout_s, 60.0)),
    )


@asynccontextmanager
async def _opened(targets: _Targets) -> AsyncIterator[tuple[Pool, DynamoDBClient]]:
    async with mysql_pool(targets.mysql) as pool, dynamodb_client(targets.dynamodb) as client:
        yield pool, client


def _print_report(report: MigrationReport, *, dry_run: bool, rejects: RejectsFile) -> None:
    verb = "would change" if dry_run else "changed"
    for phase, counts in report.counts.items():
        print(f"{phase}: {counts.summary()}")
    total = report.total
    print(f"total: {total.summary()} ({report.items_per_second:.0f} items/s)")
    if report.resumed:
        print("resumed from saved checkpoints")
    if total.changed == 0:
        print(f"nothing to change: the target already matches ({verb} 0 items)")
    if total.rejected:
        print(f"{total.rejected} rejected items written to {rejects.path}")


async def _migrate(args: argparse.Namespace, targets: _Targets) -> int:
    from_mysql = args.direction == "mysql-to-dynamodb"
    migrate = migrate_mysql_to_dynamodb if from_mysql else migrate_dynamodb_to_mysql
    async with _opened(targets) as (pool, client):
        resuming = not args.restart and not args.dry_run
        rejects = RejectsFile(args.rejects, resume=resuming)
        total = (
            await count_rows(pool, SPECS_BY_PHASE.values())
            if from_mysql
            else await count_items(client, table=targets.dynamodb.table)
        )
        run = Migration(
            client=client,
            table=targets.dynamodb.table,
            pool=pool,
            segments=args.segments,
            page_size=args.page_size,
            dry_run=args.dry_run,
            rejects=rejects,
            progress=Progress(label=f"migrate {args.direction}", total=total),
        )
        report = await migrate(run, restart=args.restart)
    _print_report(report, dry_run=args.dry_run, rejects=rejects)
    return EXIT_REJECTS if report.total.rejected else 0


async def _drain(args: argparse.Namespace, targets: _Targets) -> int:
    async with _opened(targets) as (pool, client):
        relay = OutboxRelay(
            pool=pool, client=client, table=targets.dynamodb.table, workers=args.workers
        )
        started = time.monotonic()
        delivered = await relay.drain()
        rate = relay.items_written / max(time.monotonic() - started, 1e-9)
        backlog = await relay.backlog()
    print(
        f"delivered {delivered} changes ({relay.items_written} DynamoDB items,"
        f" {rate:.0f} items/s); {backlog.rows} left in the outbox"
    )
    return 0


async def _verify(args: argparse.Namespace, targets: _Targets) -> int:
    async with _opened(targets) as (pool, client):
        total = await count_items(client, table=targets.dynamodb.table)
        started = time.monotonic()
        report = await verify(
            pool=pool,
            client=client,
            table=targets.dynamodb.table,
            segments=args.segments,
            page_size=args.page_size,
            progress=Progress(label="verify", total=total),
        )
        seconds = max(time.monotonic() - started, 1e-9)
    for phase, (in_mysql, in_dynamodb) in report.counts.items():
        print(f"{phase}: {in_mysql} in MySQL, {in_dynamodb} in DynamoDB")
    compared = sum(in_dynamodb for _, in_dynamodb in report.counts.values())
    print(f"compared {compared} DynamoDB items ({compared / seconds:.0f} items/s)")
    for difference in report.differences:
        print(f"DIFFERENT {difference}")
    if report.total > len(report.differences):
        print(f"... and {report.total - len(report.differences)} more")
    for (phase, problem), count in report.by_problem.items():
        print(f"{phase}: {count} {problem}")
    print("the stores agree" if report.agree else f"{report.total} differences")
    return 0 if report.agree else EXIT_DIFFERENCES


def run_command(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    targets = _targets()
    try:
        if args.command == "migrate":
            code = asyncio.run(_migrate(args, targets))
        elif args.command == "outbox":
            code = asyncio.run(_drain(args, targets))
        else:
            code = asyncio.run(_verify(args, targets))
    except (GraphqlApiError, ValueError) as error:
        # Checkpoints keep what was done; the message says what stopped the run.
        sys.exit(f"graphql-api: {args.command} stopped: {error}")
    sys.exit(code)
