"""`python -m bench migration` (make bench-migration): the sync commands against the
stores' own limits, in one run, on one set of rows.

A throwaway MariaDB holds the scale's rows (bench/data.py) and a throwaway moto serves
DynamoDB, both as the tests run them. In order:

1. raw BatchWriteItem of every row's item into a scratch table (bench/migration_raw.py);
2. `migrate mysql-to-dynamodb` into an empty table (the copy);
3. a storm of mutations through the MySQL store (no relay), then `outbox drain`; again
   with `--workers 2`, as the server's relay runs;
4. raw INSERTs in MariaDB;
5. raw Scans of the copy (sequential and parallel), `verify` (the copy against MySQL,
   storm included; it must agree), a raw Scan again, `migrate dynamodb-to-mysql` from
   the copy into an empty database, a raw Scan again.

Each command is held to the raw limit of the slower store it involves; the ratio is
within this run, so a busy machine moves both sides alike. Moto's speed drifts over a
run, so a command that scans is held to the mean of the raw Scans just before and just
after it.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import migration_raw as raw
from bench.data import Scale, customer_id
from bench.database import Database
from bench.outbox_storm import storm
from bench.runner import git_commit, loaded_database
from bench.sync_command import CommandRun, run_sync_command
from devstack.env import dynamodb_env
from devstack.moto_server import MotoServer
from graphql_api.admin import dynamodb_table
from graphql_api.resources import dynamodb_client
from graphql_api.settings import dynamodb_settings
from graphql_api.stores.mysql_tables import DRIVER_DECODERS
from graphql_api.sync.dynamodb_rows import item_of

STORM_MUTATIONS = 5_000
# Moto sorts the whole table for every Scan call (most of its time in a Scan, by py-spy):
# a full raw Scan of 65,000 items takes minutes, of 650,000 hours. So a raw reading of
# moto stops after RAW_WINDOW_S (its rate that of the calls so far; Scans read the table
# from its start, as the commands do), and at 100,000 customers so do the commands that
# scan (their rate then their last progress line's).
RAW_WINDOW_S = 120.0
LARGE_SCAN_LIMIT_S = 240.0
_RAW_WRITE_TABLE, _COPY_TABLE = "raw-write", "copy"
_ITEMS_PER_RAW_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class MigrationBenchConfig:
    scale: Scale
    output_dir: Path
    # Stops a raw reading of moto that runs longer (None: no limit).
    raw_window_s: float | None = RAW_WINDOW_S
    # Stops `verify` and `migrate dynamodb-to-mysql` after so long (None: no limit).
    scan_limit_s: float | None = None
    # Stops `migrate mysql-to-dynamodb` after so long (None: no limit); the copy the later
    # commands read then holds what it wrote by then.
    copy_limit_s: float | None = None
    storm_mutations: int = STORM_MUTATIONS


def _say(started: float, message: str) -> None:
    print(f"[{time.monotonic() - started:6.0f} s] {message}", flush=True)


def _item_batches(database: Database) -> Iterator[list[Any]]:
    """Every row as the item `migrate mysql-to-dynamodb` writes for it, a batch at a time."""
    connection = database.connect(decoders=DRIVER_DECODERS)
    try:
        batch: list[Any] = []
        for spec in raw.TABLES:
            for page in raw.key_ordered_pages(connection, spec):
                batch += [item_of(spec.from_row(row)) for row in page]
                if len(batch) >= _ITEMS_PER_RAW_BATCH:
                    yield batch
                    batch = []
        if batch:
            yield batch
    finally:
        connection.close()


async def _create_tables(env: dict[str, str], names: tuple[str, ...]) -> None:
    async with dynamodb_client(dynamodb_settings(env)) as client:
        for name in names:
            await dynamodb_table.create_table(client, table=name)


def _limit(raws: dict[str, raw.Timed], *names: str) -> tuple[str, float]:
    """The slowest of the raw cases a command involves."""
    name = min(names, key=lambda n: raws[n].per_second)
    return name, raws[name].per_second


class _Run:
    def __init__(self, config: MigrationBenchConfig, work: Path, env: dict[str, str]) -> None:
        self.config = config
        self.work = work
        self.env = env
        self.started = time.monotonic()
        self.commands: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def command(
        self, label: str, args: list[str], time_limit_s: float | None = None, **extra_env: str
    ) -> CommandRun:
        run = run_sync_command(
            args, env={**self.env, **extra_env}, work=self.work, time_limit_s=time_limit_s
        )
        _say(self.started, f"{label}: {run.seconds:.1f} s, {run.describe()}")
        # A run stopped at its time limit did what was asked (its rate is over the
        # window); only a command that ended with an error is a problem.
        if not run.stopped and run.exit_code != 0:
            self.problems.append(run.describe())
        return run

    def record(
        self, label: str, run: CommandRun, items: int | None, limit: tuple[str, float]
    ) -> None:
        # The command's own rate leaves out the interpreter's start-up (about a second),
        # as the raw clients' leaves out theirs; wall time where it reports none.
        per_second = run.own_rate() or (items / run.seconds if items else None)
        self.commands.append(
            {
                "command": label,
                "items": items,
                "seconds": round(run.seconds, 2),
                "items_per_s": None if per_second is None else round(per_second, 1),
                "own_rate": run.own_rate() is not None,
                "limit": limit[0],
                "limit_items_per_s": round(limit[1], 1),
                "ratio": None if per_second is None else round(per_second / limit[1], 2),
                "us_per_item": None if not per_second else round(1e6 / per_second, 1),
                "cpu_us_per_item": None if not items else round(run.cpu_seconds * 1e6 / items, 1),
                "peak_rss_mib": round(run.peak_rss_mib, 1),
                "stopped": run.stopped,
            }
        )


# `outbox drain` as it comes, and with the two workers the server's relay runs.
_DRAINS = ((), ("--workers", "2"))


def _storm_and_drain(run: _Run, database: Database, customers: int, raws: dict[str, Any]) -> None:
    ids = [customer_id(n) for n in range(1, customers + 1)]
    mutations = run.config.storm_mutations
    for seed, options in enumerate(_DRAINS):
        storm(database.settings(), customer_ids=ids, mutations=mutations, seed=seed)
        _say(run.started, f"storm: {mutations} mutations wait in the outbox")
        label = " ".join(("outbox drain", *options))
        drain = run.command(label, ["outbox", "drain", *options])
        delivered = drain.delivered()
        changes, items = delivered if delivered else (0, None)
        if changes != mutations and not drain.stopped:
            run.problems.append(f"{label} delivered {changes} of {mutations} changes")
        # A relay that does not count its items wrote at most an event and a customer a change.
        run.record(
            f"{label} ({mutations:,} mutations)",
            drain,
            items if items is not None else 2 * changes,
            _limit(raws, "BatchWriteItem"),
        )


def _measure(run: _Run, database: Database, customers: int) -> dict[str, raw.Timed]:
    started = run.started
    client = raw.dynamodb_client(run.env)
    raws: dict[str, raw.Timed] = {}
    raws["BatchWriteItem"] = raw.batch_write(
        client,
        table=_RAW_WRITE_TABLE,
        batches=_item_batches(database),
        window_s=run.config.raw_window_s,
    )
    client.delete_table(TableName=_RAW_WRITE_TABLE)
    _say(started, f"raw BatchWriteItem: {raws['BatchWriteItem']}")
    raws["MariaDB SELECT"] = raw.mariadb_select(database)
    _say(started, f"raw MariaDB SELECT: {raws['MariaDB SELECT']}")

    m2d = run.command(
        "migrate mysql-to-dynamodb",
        ["migrate", "mysql-to-dynamodb"],
        time_limit_s=run.config.copy_limit_s,
    )
    run.record(
        "migrate mysql-to-dynamodb",
        m2d,
        m2d.items(),
        _limit(raws, "BatchWriteItem", "MariaDB SELECT"),
    )
    _storm_and_drain(run, database, customers=customers, raws=raws)

    copy = Database(database.host, database.port, database.user, database.password, "raw_insert")
    copy.recreate()
    raws["MariaDB INSERT"] = raw.mariadb_insert(database, copy)
    _say(started, f"raw MariaDB INSERT: {raws['MariaDB INSERT']}")

    # Both kinds once; then only the faster again (on moto each segment's call walks the
    # whole table, so a parallel scan costs its segments over: minutes a reading at scale).
    before_verify, kind = _scans(run, client, raws, "before verify", _SCANS)
    check = run.command("verify", ["verify"], time_limit_s=run.config.scan_limit_s)
    after_verify, _ = _scans(run, client, raws, "after verify", [kind])
    raws["Scan around verify"] = _mean(before_verify, after_verify)
    run.record("verify", check, check.items(), _limit(raws, "Scan around verify", "MariaDB SELECT"))

    target = Database(database.host, database.port, database.user, database.password, "migrated")
    target.recreate()
    d2m = run.command(
        "migrate dynamodb-to-mysql",
        ["migrate", "dynamodb-to-mysql"],
        time_limit_s=run.config.scan_limit_s,
        RDS_DATABASE=target.name,
    )
    after_d2m, _ = _scans(run, client, raws, "after migrate dynamodb-to-mysql", [kind])
    raws["Scan around migrate dynamodb-to-mysql"] = _mean(after_verify, after_d2m)
    run.record(
        "migrate dynamodb-to-mysql",
        d2m,
        d2m.items(),
        _limit(raws, "Scan around migrate dynamodb-to-mysql", "MariaDB INSERT"),
    )
    return raws


# The raw Scans of the copy, by kind.
_SCANS: dict[str, Callable[..., raw.Timed]] = {
    "sequential": raw.sequential_scan,
    f"{raw.SCAN_SEGMENTS} segments": raw.parallel_scan,
}


def _scans(
    run: _Run, client: Any, raws: dict[str, raw.Timed], when: str, kinds: Iterable[str]
) -> tuple[raw.Timed, str]:
    """Raw Scans of the copy of these kinds, recorded as `when`; the faster and its kind."""
    readings: dict[str, raw.Timed] = {}
    for kind in kinds:
        readings[kind] = raws[f"Scan, {kind}, {when}"] = _SCANS[kind](
            client, table=_COPY_TABLE, window_s=run.config.raw_window_s
        )
        _say(run.started, f"raw Scan, {kind}, {when}: {readings[kind]}")
    faster = max(readings, key=lambda kind: readings[kind].per_second)
    return readings[faster], faster


def _mean(before: raw.Timed, after: raw.Timed) -> raw.Timed:
    """The store's speed while a command ran between two raw readings: the mean of their
    rates (the stricter mean: the harmonic one, items over seconds, is never above it)."""
    items = before.items + after.items
    rate = (before.per_second + after.per_second) / 2
    return raw.Timed(items, items / rate if rate else 0.0)


def run_migration_bench(config: MigrationBenchConfig) -> dict[str, Any]:
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-migration-") as temporary:
        work = Path(temporary)
        with loaded_database(work, config.scale) as (database, counts):
            moto = MotoServer(log_path=work / "moto.log")
            moto.start()
            try:
                env = {**database.env(), **dynamodb_env(moto, DYNAMODB_TABLE=_COPY_TABLE)}
                asyncio.run(_create_tables(env, (_RAW_WRITE_TABLE, _COPY_TABLE)))
                run = _Run(config, work, env)
                _say(run.started, f"loaded {counts}")
                raws = _measure(run, database, counts.customers)
            finally:
                # Its tables are throwaway, and a graceful stop of a large heap can take
                # longer than the grace period.
                moto.kill()
            mariadb = database.server_version()
    return {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": git_commit(),
            "scale": config.scale.name,
            "rows": counts.as_json(),
            "storm_mutations": config.storm_mutations,
            "raw_window_s": config.raw_window_s,
            "scan_limit_s": config.scan_limit_s,
            "copy_limit_s": config.copy_limit_s,
            "total_s": round(time.monotonic() - run.started, 1),
            "load_average": {"start": round(load_at_start, 2), "end": round(os.getloadavg()[0], 2)},
            "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "mariadb": mariadb,
            "moto": metadata.version("moto"),
        },
        "raw": {
            name: {
                "items": timed.items,
                "seconds": round(timed.seconds, 2),
                "items_per_s": round(timed.per_second, 1),
            }
            for name, timed in raws.items()
        },
        "commands": run.commands,
        "problems": run.problems,
    }
