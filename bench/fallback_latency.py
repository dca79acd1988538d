"""Read latency through the store chain: normal, MySQL down (breaker open or not), recovery.

    .venv/bin/python -m bench.fallback_latency [--reads 300]

Starts a throwaway MariaDB and moto (both with the demo rows) and the app on a
real port, then times `customer(id) { salesRep }` reads over HTTP, one at a
time (two store batches each). Prints p50/p99 per phase and the time from
MariaDB accepting connections again until reads come from MySQL. Numbers, not
a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.app_server import GraphQLClient
from devstack.env import dynamodb_env, load_dynamodb, mysql_env, serve
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from graphql_api.admin.db_init import apply_sql_files
from graphql_api.settings import load_settings

READ = "query($id: ID!) { customer(id: $id) { id source salesRep { id source } } }"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   (n={len(ordered)})"


def timed_reads(client: GraphQLClient, count: int, expected_source: str) -> list[float]:
    samples = []
    for n in range(count):
        started = time.perf_counter()
        body = client.post(READ, {"id": f"C-{n % 500 + 1:05d}"})
        samples.append(time.perf_counter() - started)
        source = body["data"]["customer"]["source"]
        assert source == expected_source, body
    return samples


@contextmanager
def app_client(env: dict[str, str]) -> Iterator[tuple[GraphQLClient, object]]:
    app = serve(env)
    with app:
        client = GraphQLClient(app.base_url)
        try:
            yield client, app
        finally:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=300)
    reads = parser.parse_args().reads
    # The chain logs every fallback; here they are the point, not news.
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        mariadb = MariaDBServer(base_dir=base / "mariadb")
        mariadb.start()
        try:
            settings = load_settings(mysql_env(mariadb))
            assert settings.mysql is not None
            asyncio.run(apply_sql_files(settings.mysql, with_seed=True))
            with MotoServer(log_path=base / "moto.log") as moto:
                load_dynamodb(moto)
                run_phases(mariadb, moto, reads)
        finally:
            mariadb.stop()


def run_phases(mariadb: MariaDBServer, moto: MotoServer, reads: int) -> None:
    both = {**mysql_env(mariadb), **dynamodb_env(moto, GRAPHQL_API_DYNAMODB_TIMEOUT="3")}
    with app_client(dynamodb_env(moto, GRAPHQL_API_STORES="dynamodb")) as (client, _):
        timed_reads(client, 20, "DYNAMODB")  # warm-up
        print(
            "DynamoDB alone (moto)            ", percentiles(timed_reads(client, reads, "DYNAMODB"))
        )

    # Few enough reads that the breaker (opening at 1000 failures) stays closed.
    no_breaker = {**both, "GRAPHQL_API_BREAKER_FAILURES": "1000"}
    with app_client(no_breaker) as (client, _):
        timed_reads(client, 20, "MYSQL")
        print("normal: MySQL answers            ", percentiles(timed_reads(client, reads, "MYSQL")))
        mariadb.kill()
        samples = timed_reads(client, min(reads, 150), "DYNAMODB")
        print("MySQL down, no breaker (retries) ", percentiles(samples))
        mariadb.start()

    with app_client(both) as (client, _):
        timed_reads(client, 20, "MYSQL")
        mariadb.kill()
        [first] = timed_reads(client, 1, "DYNAMODB")
        print(f"MySQL down, first read (retries, then the breaker opens) {first * 1000:.1f} ms")
        samples = timed_reads(client, reads, "DYNAMODB")
        print("MySQL down, breaker open         ", percentiles(samples))
        mariadb.start()
        started = time.monotonic()
        while client.post(READ, {"id": "C-00001"})["data"]["customer"]["source"] != "MYSQL":
            time.sleep(0.05)
        print(
            f"back on MySQL {time.monotonic() - started:.2f} s after MariaDB accepted logins"
            " (breaker cool-down 5 s by default)"
        )


if __name__ == "__main__":
    main()
