"""Migrations, the outbox relay and verify, against MariaDB and moto as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack.app_server import GraphQLClient
from devstack.env import dynamodb_env, mysql_env, serve
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from graphql_api.admin import dynamodb_table
from graphql_api.admin.db_init import apply_sql_files
from graphql_api.resources import dynamodb_client
from graphql_api.settings import dynamodb_settings, load_settings
from graphql_api.stores import dynamodb_items as items
from graphql_api.stores.records import (
    CustomerEventKind,
    CustomerEventRecord,
    CustomerRecord,
    CustomerStatus,
    DataSource,
    SalesRepRecord,
)
from graphql_api.sync.dynamodb_rows import key_text
from tests.utils.metrics import scrape, value

pytestmark = pytest.mark.long_running

# moto's Scan walks the whole table on every call, so a migration costs rows x pages.
# 1,000 customers (and an event each) in pages of 200 items still give every one of the
# four segments of a parallel scan several pages (about 500 items a segment), and pages
# that end inside a customer's partition: what checkpoints, resuming and paging need;
# more rows would only prove the same thing slower.
REPS, CUSTOMERS = 20, 1_000
PAGES = ("--page-size", "200")
# A parallel scan (one segment is the default): the killed migration needs it.
SEGMENTS = ("--segments", "4")
EPOCH = datetime(2023, 5, 1, tzinfo=UTC)


def bulk_items() -> list[items.Item]:
    """REPS reps and CUSTOMERS customers (most assigned), with a CREATED event each."""
    rows: list[items.Item] = []
    for n in range(REPS):
        at = EPOCH + timedelta(minutes=n)
        rows.append(
            items.sales_rep_item(
                SalesRepRecord(
                    id=f"R{n:04d}",
                    first_name="Rep",
                    last_name=f"Number {n}",
                    email=f"rep{n}@bulk.example",
                    phone=None,
                    region="North",
                    active=True,
                    created_at=at,
                    updated_at=at,
                    source=DataSource.DYNAMODB,
                )
            )
        )
    for n in range(CUSTOMERS):
        rep = None if n % 9 == 0 else f"R{n % REPS:04d}"
        at = EPOCH + timedelta(hours=1, seconds=n)
        rows.append(
            items.event_item(
                CustomerEventRecord(
                    id=n + 1,
                    customer_id=f"B{n:05d}",
                    kind=CustomerEventKind.CREATED,
                    at=at,
                    actor="import",
                    from_sales_rep_id=None,
                    to_sales_rep_id=rep,
                    from_status=None,
                    to_status=CustomerStatus.ACTIVE,
                    note=None,
                )
            )
        )
        rows.append(
            items.customer_item(
                CustomerRecord(
                    id=f"B{n:05d}",
                    name=f"Bulk Customer {n}",
                    contact_person=None,
                    email=f"c{n}@bulk.example",
                    phone="+1 555 0100",
                    address=None,
                    city="Austin",
                    state="TX",
                    zip_code=None,
                    country="US",
                    status=CustomerStatus.ACTIVE,
                    sales_rep_id=rep,
                    version=1,
                    created_at=at,
                    updated_at=at,
                    source=DataSource.DYNAMODB,
                )
            )
        )
    return rows


async def _new_table(env: dict[str, str], rows: list[items.Item]) -> None:
    settings = dynamodb_settings(env)
    async with dynamodb_client(settings) as client:
        await dynamodb_table.create_table(client, table=settings.table)
        await dynamodb_table.put_items(client, table=settings.table, rows=rows)


def new_table(moto: MotoServer, rows: list[items.Item]) -> dict[str, str]:
    env = dynamodb_env(moto, DYNAMODB_TABLE=f"sync-{uuid.uuid4().hex[:8]}")
    asyncio.run(_new_table(env, rows))
    return env


def new_database(server: MariaDBServer) -> dict[str, str]:
    name = f"sync_{uuid.uuid4().hex[:8]}"
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
    finally:
        connection.close()
    env = mysql_env(server, RDS_DATABASE=name)
    settings = load_settings(env)
    assert settings.mysql is not None
    asyncio.run(apply_sql_files(settings.mysql, with_seed=False))
    return env


def graphql_api(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphql_api", *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def snapshot(server: MariaDBServer, database: str) -> dict[str, list[Any]]:
    tables = {
        "sales_reps": "sales_rep_id",
        "customers": "customer_id",
        "customer_events": "event_id",
    }
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            found = {}
            for table, key in tables.items():
                cursor.execute(f"SELECT * FROM {database}.{table} ORDER BY {key}")
                found[table] = list(cursor.fetchall())
            return found
    finally:
        connection.close()


def count(server: MariaDBServer, sql: str) -> int:
    connection = server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
            assert row is not None
            return int(row[0])
    finally:
        connection.close()


def wait_for(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Migrated:
    env: dict[str, str]
    first_run: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def bulk_table(moto: MotoServer) -> dict[str, str]:
    return new_table(moto, bulk_items())


@pytest.fixture(scope="module")
def migrated(
    bulk_table: dict[str, str], mariadb: MariaDBServer, tmp_path_factory: pytest.TempPathFactory
) -> Migrated:
    env = {**new_database(mariadb), **bulk_table}
    result = graphql_api(
        "migrate", "dynamodb-to-mysql", *PAGES, env=env, cwd=tmp_path_factory.mktemp("m")
    )
    return Migrated(env, result)


def test_migration_copies_every_item_and_verify_agrees(migrated: Migrated, tmp_path: Path) -> None:
    result = migrated.first_run
    assert result.returncode == 0, result.stderr
    assert f"sales_reps: inserted {REPS}, updated 0, unchanged 0, rejected 0" in result.stdout
    assert f"customers: inserted {CUSTOMERS}, updated 0, unchanged 0, rejected 0" in result.stdout
    check = graphql_api("verify", *PAGES, env=migrated.env, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"customers: {CUSTOMERS} in MySQL, {CUSTOMERS} in DynamoDB" in check.stdout
    assert "the stores agree" in check.stdout


def test_second_migration_changes_nothing(
    migrated: Migrated, mariadb: MariaDBServer, tmp_path: Path
) -> None:
    database = migrated.env["RDS_DATABASE"]
    before = snapshot(mariadb, database)
    again = graphql_api("migrate", "dynamodb-to-mysql", *PAGES, env=migrated.env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "total: inserted 0, updated 0" in again.stdout
    assert "nothing to change" in again.stdout
    assert snapshot(mariadb, database) == before


def test_verify_reports_each_difference(
    migrated: Migrated, mariadb: MariaDBServer, tmp_path: Path
) -> None:
    database = migrated.env["RDS_DATABASE"]
    connection = mariadb.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {database}.customers SET city = 'Elsewhere' WHERE customer_id = 'B00007'"
            )
        check = graphql_api("verify", *PAGES, env=migrated.env, cwd=tmp_path)
        assert check.returncode != 0
        assert "DIFFERENT customers B00007: fields differ: city" in check.stdout
        assert "1 differences" in check.stdout
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {database}.customers SET city = 'Austin' WHERE customer_id = 'B00007'"
            )
        connection.close()


def _with_differences(rows: list[items.Item]) -> list[items.Item]:
    """The bulk items with one difference of each kind verify tells apart."""
    by_key = {key_text(item): dict(item) for item in rows}
    del by_key[key_text(items.customer_key("B00003"))]
    by_key[key_text(items.customer_key("B00005"))].pop("version")
    by_key[key_text(items.customer_key("B00007"))]["city"] = {"S": "Elsewhere"}
    stranger = dict(by_key[key_text(items.customer_key("B00009"))])
    stranger |= {**items.customer_key("B99999"), "id": {"S": "B99999"}}
    # The event of B00011 under another customer's partition too: two items, one event id.
    (event,) = (i for i in rows if i.get("customer_id") == {"S": "B00011"})
    twin = {**event, items.PK: items.customer_key("B00012")[items.PK]}
    return [*by_key.values(), stranger, twin]


def test_verify_tells_each_kind_of_difference_apart(
    migrated: Migrated, moto: MotoServer, tmp_path: Path
) -> None:
    env = {**migrated.env, **new_table(moto, _with_differences(bulk_items()))}
    check = graphql_api("verify", *PAGES, env=env, cwd=tmp_path)
    assert check.returncode == 4, check.stderr
    listed = [line for line in check.stdout.splitlines() if line.startswith("DIFFERENT")]
    # An item it cannot read is named by its key in DynamoDB; the row it should hold is
    # then missing there too.
    assert listed == [
        "DIFFERENT customers CUSTOMER#B00005|PROFILE: unreadable in DynamoDB",
        "DIFFERENT customers B00003: missing in DynamoDB",
        "DIFFERENT customers B00005: missing in DynamoDB",
        "DIFFERENT customers B00007: fields differ: city",
        "DIFFERENT customers B99999: missing in MySQL",
        "DIFFERENT events 12: 2 items in DynamoDB hold this key",
    ]
    for count_line in (
        "customers: 1000 in MySQL, 999 in DynamoDB",
        "events: 1000 in MySQL, 1001 in DynamoDB",
        "customers: 1 unreadable in DynamoDB",
        "customers: 2 missing in DynamoDB",
        "customers: 1 fields differ",
        "customers: 1 missing in MySQL",
        "events: 1 more than one item in DynamoDB",
    ):
        assert count_line in check.stdout.splitlines()
    assert "6 differences" in check.stdout


def test_dry_run_reports_and_writes_nothing(
    bulk_table: dict[str, str], mariadb: MariaDBServer, tmp_path: Path
) -> None:
    env = {**new_database(mariadb), **bulk_table}
    result = graphql_api("migrate", "dynamodb-to-mysql", "--dry-run", *PAGES, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"customers: inserted {CUSTOMERS}" in result.stdout
    assert snapshot(mariadb, env["RDS_DATABASE"]) == {
        "sales_reps": [],
        "customers": [],
        "customer_events": [],
    }


# The customer the migration writes last: its segment reaches it on its last page.
HELD_CUSTOMER = f"B{CUSTOMERS - 1:05d}"


def _killable(process: subprocess.Popen[bytes], mariadb: MariaDBServer, database: str) -> bool:
    """Three segments of the table's scan done, the fourth part way: its earlier
    pages committed, the page with the held row unable to. The state to kill it in."""
    assert process.poll() is None, "the migration ended before it could be killed"
    return (
        count(
            mariadb,
            "SELECT COALESCE(SUM(done) = 3 AND SUM(NOT done AND position IS NOT NULL) = 1, 0)"
            f" FROM {database}.migration_checkpoints WHERE phase = 'scan'",
        )
        == 1
    )


def test_killed_migration_resumes_to_the_same_content(
    bulk_table: dict[str, str], mariadb: MariaDBServer, tmp_path: Path
) -> None:
    env = {**new_database(mariadb), **bulk_table}
    database = env["RDS_DATABASE"]
    # The test holds one customer's row in an open transaction, so the page that
    # upserts it (rows and checkpoint, one transaction) waits: the kill lands
    # inside that page, after the reps and the segment's earlier pages committed,
    # however fast or slow the machine is.
    holder = mariadb.connect()
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                f"INSERT INTO {database}.customers (customer_id, name, created_at, updated_at)"
                " VALUES (%s, 'held by the test', NOW(6), NOW(6))",
                [HELD_CUSTOMER],
            )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "graphql_api",
                "migrate",
                "dynamodb-to-mysql",
                *SEGMENTS,
                *PAGES,
            ],
            env={"PATH": os.environ["PATH"], **env},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(
                lambda: _killable(process, mariadb, database),
                timeout_s=300,
                what="three scan segments done and the fourth held part way",
            )
        finally:
            # The kill under test (it also ends the migration if the wait failed).
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
    finally:
        with holder.cursor() as cursor:
            cursor.execute("ROLLBACK")
        holder.close()
    assert count(mariadb, f"SELECT COUNT(*) FROM {database}.customers") < CUSTOMERS
    resumed = graphql_api(
        "migrate", "dynamodb-to-mysql", *SEGMENTS, "--page-size", "150", env=env, cwd=tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from saved checkpoints" in resumed.stdout
    assert count(mariadb, f"SELECT COUNT(*) FROM {database}.migration_checkpoints") == 0
    check = graphql_api("verify", *SEGMENTS, *PAGES, env=env, cwd=tmp_path)
    assert "the stores agree" in check.stdout, check.stdout


async def _all_items(env: dict[str, str]) -> list[items.Item]:
    settings = dynamodb_settings(env)
    found: list[items.Item] = []
    async with dynamodb_client(settings) as client:
        params: dict[str, Any] = {"TableName": settings.table}
        while True:
            page = await client.scan(**params)
            found += page["Items"]
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=key_text)
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


async def _corrupt(env: dict[str, str]) -> None:
    """One customer's city changed and one event gone, behind MySQL's back."""
    settings = dynamodb_settings(env)
    async with dynamodb_client(settings) as client:
        key = items.customer_key("B00003")
        await client.update_item(
            TableName=settings.table,
            Key=key,
            UpdateExpression="SET city = :city",
            ExpressionAttributeValues={":city": {"S": "Nowhere"}},
        )
        event = {items.PK: {"S": items.customer_pk("B00004")}, items.SK: {"S": items.event_sk(5)}}
        await client.delete_item(TableName=settings.table, Key=event)


# An item of no kind the sync commands know: verify and the migrations pass it by.
UNRELATED: items.Item = {items.PK: {"S": "OTHER#1"}, items.SK: {"S": "PROFILE"}}


def test_mysql_to_dynamodb_writes_the_same_items_with_or_without_reading_back(
    migrated: Migrated, moto: MotoServer, tmp_path: Path
) -> None:
    # Into an empty table nothing is read back; into one that held anything, every
    # page is compared first. The same rows must come out either way.
    empty = {**migrated.env, **new_table(moto, [])}
    held = {**migrated.env, **new_table(moto, [UNRELATED])}
    outputs = [
        graphql_api("migrate", "mysql-to-dynamodb", *PAGES, env=env, cwd=tmp_path)
        for env in (empty, held)
    ]
    for result in outputs:
        assert result.returncode == 0, result.stderr
        assert f"customers: inserted {CUSTOMERS}, updated 0, unchanged 0" in result.stdout
    written = asyncio.run(_all_items(empty))
    assert [item for item in asyncio.run(_all_items(held)) if item != UNRELATED] == written
    check = graphql_api("verify", *PAGES, env=empty, cwd=tmp_path)
    assert "the stores agree" in check.stdout, check.stdout
    again = graphql_api("migrate", "mysql-to-dynamodb", *PAGES, env=held, cwd=tmp_path)
    assert "nothing to change" in again.stdout
    asyncio.run(_corrupt(empty))
    repair = graphql_api("migrate", "mysql-to-dynamodb", *PAGES, env=empty, cwd=tmp_path)
    assert "customers: inserted 0, updated 1, unchanged 999, rejected 0" in repair.stdout
    assert "events: inserted 1, updated 0, unchanged 999, rejected 0" in repair.stdout
    assert asyncio.run(_all_items(empty)) == written


def _planted() -> tuple[list[items.Item], dict[str, str]]:
    """Good rows plus one bad item per rule; returns the rows and key -> expected reason."""
    at = EPOCH
    rep = SalesRepRecord(
        id="GOOD-REP",
        first_name="Gail",
        last_name="Good",
        email="gail@good.example",
        phone=None,
        region=None,
        active=True,
        created_at=at,
        updated_at=at,
        source=DataSource.DYNAMODB,
    )
    good = CustomerRecord(
        id="GOOD-1",
        name="Good Co",
        contact_person=None,
        email="ok@good.example",
        phone=None,
        address=None,
        city=None,
        state=None,
        zip_code=None,
        country=None,
        status=CustomerStatus.ACTIVE,
        sales_rep_id="GOOD-REP",
        version=1,
        created_at=at,
        updated_at=at,
        source=DataSource.DYNAMODB,
    )
    rows = [items.sales_rep_item(rep), items.customer_item(good)]
    expected: dict[str, str] = {}

    def plant(item: items.Item, reason: str) -> None:
        rows.append(item)
        expected[f"{item[items.PK]['S']}|{item[items.SK]['S']}"] = reason

    missing_name = items.customer_item(_replace(good, id="BAD-NONAME"))
    del missing_name["name"]
    plant(missing_name, "missing required attribute 'name'")
    plant(items.customer_item(_replace(good, id="BAD-LONG", name="N" * 201)), "limit is 200")
    plant(items.customer_item(_replace(good, id="BAD-EMAIL", email="nope")), "not a valid email")
    plant(
        items.customer_item(_replace(good, id="BAD-REP", sales_rep_id="GHOST")),
        "sales rep 'GHOST' does not exist",
    )
    plant(
        items.sales_rep_item(
            SalesRepRecord(
                id="LONG-REP",
                first_name="F" * 51,
                last_name="L",
                email="l@x.example",
                phone=None,
                region=None,
                active=True,
                created_at=at,
                updated_at=at,
                source=DataSource.DYNAMODB,
            )
        ),
        "limit is 50",
    )
    plant(
        items.event_item(
            CustomerEventRecord(
                id=77,
                customer_id="NOBODY",
                kind=CustomerEventKind.CREATED,
                at=at,
                actor=None,
                from_sales_rep_id=None,
                to_sales_rep_id=None,
                from_status=None,
                to_status=None,
                note=None,
            )
        ),
        "customer 'NOBODY' does not exist",
    )
    return rows, expected


def _replace(record: CustomerRecord, **changes: Any) -> CustomerRecord:
    from dataclasses import replace

    return replace(record, **changes)


def test_rejects_file_holds_exactly_the_bad_items(
    moto: MotoServer, mariadb: MariaDBServer, tmp_path: Path
) -> None:
    rows, expected = _planted()
    env = {**new_database(mariadb), **new_table(moto, rows)}
    rejects = tmp_path / "rejects.jsonl"
    result = graphql_api(
        "migrate", "dynamodb-to-mysql", "--rejects", str(rejects), env=env, cwd=tmp_path
    )
    assert result.returncode == 3
    assert f"{len(expected)} rejected items written to" in result.stdout
    entries = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert {entry["key"] for entry in entries} == set(expected)
    for entry in entries:
        assert expected[entry["key"]] in entry["reason"], entry
    database = env["RDS_DATABASE"]
    assert count(mariadb, f"SELECT COUNT(*) FROM {database}.customers") == 1
    assert count(mariadb, f"SELECT COUNT(*) FROM {database}.sales_reps") == 1


MUTATION = """mutation($input: {kind}Input!) {{ {name}(input: $input) {{
  __typename ... on Customer {{ id version }} }} }}"""


def _random_mutation(rng: random.Random, created: list[str]) -> tuple[str, dict[str, Any]]:
    customer = f"C-{rng.randint(1, 500):05d}"
    active_reps = [f"SR-{n:03d}" for n in range(1, 21) if n % 10]
    roll = rng.random()
    if roll < 0.4:
        return "assignCustomer", {"customerId": customer, "salesRepId": rng.choice(active_reps)}
    if roll < 0.55:
        return "unassignCustomer", {"customerId": customer}
    if roll < 0.75:
        status = rng.choice(["PROSPECT", "ACTIVE", "INACTIVE", "CHURNED"])
        return "updateCustomerStatus", {"customerId": customer, "status": status}
    if roll < 0.9:
        return "updateCustomer", {"customerId": customer, "city": f"City {rng.randint(1, 99)}"}
    new_id = f"STORM-{len(created):04d}"
    created.append(new_id)
    return "createCustomer", {
        "id": new_id,
        "name": f"Storm {new_id}",
        "salesRepId": rng.choice(active_reps),
    }


@pytest.fixture
def storm_env(
    seeded_mariadb: MariaDBServer, moto: MotoServer, tmp_path: Path
) -> Iterator[dict[str, str]]:
    env = {**mysql_env(seeded_mariadb), **new_table(moto, []), "GRAPHQL_API_DYNAMODB_TIMEOUT": "1"}
    copy = graphql_api("migrate", "mysql-to-dynamodb", env=env, cwd=tmp_path)
    assert copy.returncode == 0, copy.stderr
    yield env
    moto.resume()


def test_mutation_storm_with_dynamodb_outage_ends_in_agreement(
    storm_env: dict[str, str], seeded_mariadb: MariaDBServer, moto: MotoServer, tmp_path: Path
) -> None:
    rng = random.Random(7)
    created: list[str] = []
    plan = [_random_mutation(rng, created) for _ in range(1000)]
    acknowledged: dict[str, int] = {}
    backlog_while_down = 0

    with serve(storm_env) as app:
        # One client for the four threads (httpx's is thread-safe): a client per
        # request would spend more time building clients than sending mutations.
        client = GraphQLClient(app.base_url)

        def send(step: tuple[str, dict[str, Any]]) -> tuple[str, int] | None:
            name, input = step
            query = MUTATION.format(kind=name[0].upper() + name[1:], name=name)
            result = client.data(query, {"input": input})[name]
            return (result["id"], result["version"]) if result["__typename"] == "Customer" else None

        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                for index, outcome in enumerate(pool.map(send, plan)):
                    if outcome is not None:
                        customer, version = outcome
                        acknowledged[customer] = max(acknowledged.get(customer, 0), version)
                    if index == 250:
                        moto.pause()
                    if index == 750:
                        backlog_while_down = count(seeded_mariadb, "SELECT COUNT(*) FROM outbox")
                        moto.resume()
        finally:
            client.close()
        wait_for(
            lambda: count(seeded_mariadb, "SELECT COUNT(*) FROM outbox") == 0,
            timeout_s=120,
            what="the relay to drain the outbox",
        )
    assert backlog_while_down > 100, "the relay should have been blocked by the outage"
    check = graphql_api("verify", *PAGES, env=storm_env, cwd=tmp_path)
    print(f"verify after the storm (backlog while DynamoDB was down: {backlog_while_down}):")
    print(check.stdout)
    assert check.returncode == 0, check.stdout
    assert "the stores agree" in check.stdout
    connection = seeded_mariadb.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT customer_id, version FROM customers")
            versions = dict(cursor.fetchall())
    finally:
        connection.close()
    # Every acknowledged change is in MySQL, and (verify agrees) in DynamoDB too.
    assert all(versions[customer] >= version for customer, version in acknowledged.items())
    assert len(acknowledged) > 300
    assert set(created) <= set(versions)


def test_the_relay_reports_its_backlog_and_oldest_age_as_metrics(
    storm_env: dict[str, str], moto: MotoServer
) -> None:
    env = {**storm_env, "GRAPHQL_API_OUTBOX_BACKLOG_INTERVAL": "0.2"}
    update = MUTATION.format(kind="UpdateCustomer", name="updateCustomer")
    seen: list[tuple[float, float]] = []

    with serve(env) as app:
        client = GraphQLClient(app.base_url)

        def backlog_is(check: Callable[[float, float], bool]) -> bool:
            samples, _ = scrape(client.http)
            rows = value(samples, "graphql_api_outbox_backlog")
            age = value(samples, "graphql_api_outbox_oldest_age_seconds")
            seen.append((rows, age))
            return check(rows, age)

        try:
            moto.pause()
            for n in range(3):
                client.data(update, {"input": {"customerId": f"C-0000{n + 1}", "city": "Outage"}})
            wait_for(
                lambda: backlog_is(lambda rows, age: rows == 3 and age > 0),
                timeout_s=60,
                what="the backlog of three changes in the gauges",
            )
            moto.resume()
            wait_for(
                lambda: backlog_is(lambda rows, age: (rows, age) == (0, 0)),
                timeout_s=120,
                what="the drained outbox in the gauges",
            )
        finally:
            client.close()
    # The gauge counted rows, never more than the three changes that waited.
    assert max(rows for rows, _ in seen) == 3


def test_concurrent_drainers_deliver_each_change_once(
    seeded_mariadb: MariaDBServer, moto: MotoServer, tmp_path: Path
) -> None:
    env = {**mysql_env(seeded_mariadb), **new_table(moto, [])}
    copy = graphql_api("migrate", "mysql-to-dynamodb", env=env, cwd=tmp_path)
    assert copy.returncode == 0, copy.stderr
    rng = random.Random(11)
    created: list[str] = []
    # No relay in the server: the changes wait in the outbox for the drain commands.
    with serve({**env, "GRAPHQL_API_OUTBOX_RELAY": "false"}) as app:
        client = GraphQLClient(app.base_url)
        try:
            for name, input in (_random_mutation(rng, created) for _ in range(200)):
                query = MUTATION.format(kind=name[0].upper() + name[1:], name=name)
                client.data(query, {"input": input})
        finally:
            client.close()
    backlog = count(seeded_mariadb, "SELECT COUNT(*) FROM outbox")
    assert backlog > 100
    drainers = [
        subprocess.Popen(
            [sys.executable, "-m", "graphql_api", "outbox", "drain"],
            env={"PATH": os.environ["PATH"], **env},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [drainer.communicate(timeout=300)[0] for drainer in drainers]
    assert [drainer.returncode for drainer in drainers] == [0, 0, 0]
    delivered = [int(output.split()[1]) for output in outputs]
    assert sum(delivered) == backlog
    assert count(seeded_mariadb, "SELECT COUNT(*) FROM outbox") == 0
    check = graphql_api("verify", *PAGES, env=env, cwd=tmp_path)
    assert "the stores agree" in check.stdout, check.stdout
