"""The live feed's delivery latency: N subscribers, a change every interval
(`make bench-feed`, and the last case of `make bench`).

`graphql-api serve` (production settings, MySQL, one worker) over a throwaway
MariaDB with the demo rows; this process opens N websocket subscribers (one
connection each, half following a customer, half its rep, so every change
reaches every one of them) and changes that customer's status every interval,
each change awaited before the next. A delivery's latency is from sending the
change to a subscriber receiving its event: the write, the wait for the next
poll, the fan-out, the socket. Every delivery is checked: each subscriber gets
each change once, in order.

Other work on the machine shows in every number: the report gives the load
average and the CPU the server and this client used.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.credentials import credentials, hs256_token
from bench.database import Database
from bench.feed_receiver import FeedSubscriber
from bench.operations import Peer
from bench.runner import git_commit
from bench.servers import PeerProcess, server_env
from devstack.mariadb import MariaDBServer
from graphql_api.admin.db_init import apply_sql_files

CUSTOMER, REP = "C-00021", "SR-001"  # C-00021 is SR-001's in the demo rows
FEED = """
subscription Feed($customerId: ID, $salesRepId: ID) {
  customerEvents(customerId: $customerId, salesRepId: $salesRepId) {
    __typename
    ... on CustomerFeedEvent { cursor kind note }
    ... on CustomerFeedStatus { state }
  }
}
"""
CHANGE = """
mutation Change($status: CustomerStatus!, $note: String) {
  updateCustomerStatus(input: {customerId: "C-00021", status: $status, note: $note}) {
    __typename
  }
}
"""


class ChangeFailedError(RuntimeError):
    """A change the bench made was not answered with the customer: its errors say why."""

    def __init__(self, n: int, status: int, body: object) -> None:
        super().__init__(f"change-{n}: HTTP {status}, {json.dumps(body)}")
        self.n = n
        self.status = status
        self.body = body


@dataclass(frozen=True)
class FeedBenchConfig:
    subscribers: int = 1_000
    interval_s: float = 0.1
    duration_s: float = 30.0
    # The server's GRAPHQL_API_FEED_POLL_INTERVAL; None: its default.
    poll_interval_s: float | None = None
    output_dir: Path = Path("bench/results")


@dataclass
class _Deliveries:
    sent: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    out_of_order: int = 0
    unexpected: int = 0


def _viewer_token(secret: str, n: int) -> str:
    now = int(time.time())
    claims = {"sub": f"viewer-{n:05d}", "roles": ["viewer"], "iat": now, "exp": now + 86_400}
    return hs256_token(secret, claims)


class _Receiver:
    """One subscriber's deliveries, checked as they arrive: each change once, in order."""

    __slots__ = ("count", "done", "expected", "seen")

    def __init__(self, count: int, seen: _Deliveries) -> None:
        self.count = count
        self.seen = seen
        self.expected = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def __call__(self, data: dict[str, Any], received: float) -> None:
        message = data["customerEvents"]
        if message["__typename"] != "CustomerFeedEvent":
            return  # a status message: not a delivery
        seen, note = self.seen, message["note"]
        if note not in seen.sent:
            seen.unexpected += 1
            return
        if note != f"change-{self.expected}":
            seen.out_of_order += 1
        self.expected = int(note.removeprefix("change-")) + 1
        seen.latencies.append(received - seen.sent[note])
        if self.expected >= self.count and not self.done.done():
            self.done.set_result(None)


async def _subscribe(base_url: str, n: int, receiver: _Receiver) -> FeedSubscriber:
    variables = {"customerId": CUSTOMER} if n % 2 == 0 else {"salesRepId": REP}
    subscriber, live = await FeedSubscriber.open(
        base_url,
        token=_viewer_token(credentials().secret, n),
        document=FEED,
        variables=variables,
        on_data=receiver,
    )
    assert live["customerEvents"]["state"] == "LIVE", live
    return subscriber


async def _all_delivered(
    changes: Awaitable[int], receivers: list[_Receiver], subscribers: list[FeedSubscriber]
) -> None:
    """Until every receiver has had every change; a change or a subscriber that
    fails ends it with that failure, and so does waiting two minutes past the last change."""
    delivered = asyncio.gather(changes, *(receiver.done for receiver in receivers))
    failures = [subscriber.failed for subscriber in subscribers]
    pending: set[asyncio.Future[Any]] = {delivered, *failures}
    while delivered in pending:
        done, pending = await asyncio.wait(
            pending, timeout=120, return_when=asyncio.FIRST_COMPLETED
        )
        if not done:
            missing = sum(not receiver.done.done() for receiver in receivers)
            delivered.cancel()
            raise TimeoutError(f"{missing} subscribers still waiting for changes after 120 s")
        for future in done:
            future.result()  # the failure, if it failed


async def _changes(base_url: str, config: FeedBenchConfig, seen: _Deliveries) -> int:
    """One change every interval for the duration; each awaited before the next."""
    count = round(config.duration_s / config.interval_s)
    headers = {"Authorization": credentials().authorization}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        start = time.perf_counter()
        for n in range(count):
            await asyncio.sleep(max(0.0, start + n * config.interval_s - time.perf_counter()))
            note = f"change-{n}"
            status = "INACTIVE" if n % 2 else "ACTIVE"  # the demo's C-00021 starts INACTIVE
            seen.sent[note] = time.perf_counter()
            answer = await http.post(
                "/graphql", json={"query": CHANGE, "variables": {"status": status, "note": note}}
            )
            body = answer.json()
            if (body.get("data") or {}).get("updateCustomerStatus", {}).get("__typename") != (
                "Customer"
            ):
                raise ChangeFailedError(n, answer.status_code, body)
    return count


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _measure(server: PeerProcess, config: FeedBenchConfig) -> dict[str, Any]:
    seen = _Deliveries()
    count = round(config.duration_s / config.interval_s)
    receivers = [_Receiver(count, seen) for _ in range(config.subscribers)]
    subscribers: list[FeedSubscriber] = []
    for first in range(0, config.subscribers, 100):
        batch = range(first, min(first + 100, config.subscribers))
        subscribers += await asyncio.gather(
            *(_subscribe(server.base_url, n, receivers[n]) for n in batch)
        )
    cpu_server, cpu_client = server.cpu_seconds(), time.process_time()
    load_before, started = os.getloadavg(), time.perf_counter()
    try:
        await _all_delivered(_changes(server.base_url, config, seen), receivers, subscribers)
    finally:
        for subscriber in subscribers:
            subscriber.close()
    elapsed = time.perf_counter() - started
    latencies = seen.latencies
    server_cpu_s = server.cpu_seconds() - cpu_server
    client_cpu_s = time.process_time() - cpu_client
    delivered = max(1, len(latencies))
    return {
        "deliveries": len(latencies),
        "expected_deliveries": count * config.subscribers,
        "out_of_order": seen.out_of_order,
        "unexpected": seen.unexpected,
        "latency_ms": {
            "p50": 1000 * statistics.median(latencies),
            "p90": 1000 * _percentile(latencies, 0.90),
            "p99": 1000 * _percentile(latencies, 0.99),
            "max": 1000 * max(latencies),
        },
        "seconds": elapsed,
        "server_cpu_share": server_cpu_s / elapsed,
        "client_cpu_share": client_cpu_s / elapsed,
        # All the server did meanwhile (the changes, the polls) over the deliveries.
        "server_cpu_us_per_delivery": 1e6 * server_cpu_s / delivered,
        "client_cpu_us_per_delivery": 1e6 * client_cpu_s / delivered,
        "load_average": {"before": load_before[0], "after": os.getloadavg()[0]},
    }


def run_feed_bench(config: FeedBenchConfig) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-feed-") as temporary:
        work = Path(temporary)
        with MariaDBServer(base_dir=work / "mariadb") as mariadb:
            database = Database(
                mariadb.host, mariadb.port, mariadb.user, mariadb.password, mariadb.database
            )
            # The database MariaDBServer made, with the tables and the demo rows.
            asyncio.run(apply_sql_files(database.settings(), with_seed=True))
            env = server_env(database.env(), max_page_size=100)
            if config.poll_interval_s is not None:
                env["GRAPHQL_API_FEED_POLL_INTERVAL"] = str(config.poll_interval_s)
            with PeerProcess(Peer.API, env, work) as server:
                try:
                    results = asyncio.run(_measure(server, config))
                except ChangeFailedError as failure:
                    # The answer says STORE_UNAVAILABLE or OVERLOADED; the server's
                    # log says why (a timeout, the pool), and goes with the temporary dir.
                    failure.add_note(f"server log tail:\n{server.log_tail()}")
                    raise
    return {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": git_commit(),
            "cores": os.cpu_count(),
            "config": {**asdict(config), "output_dir": str(config.output_dir)},
        },
        "results": results,
    }


def markdown(report: dict[str, Any]) -> str:
    meta, results = report["meta"], report["results"]
    config = meta["config"]
    latency = results["latency_ms"]
    poll = config["poll_interval_s"] or "default (0.5)"
    lines = [
        f"# Live feed delivery latency, {meta['date']}, commit {meta['commit']}",
        "",
        f"{config['subscribers']} subscribers (one connection each), a change every"
        f" {config['interval_s'] * 1000:g} ms for {config['duration_s']:g} s, poll interval"
        f" {poll} s; {meta['cores']} cores. Command: `make bench-feed`.",
        "",
        "| deliveries | p50 | p90 | p99 | max | server CPU | client CPU | load average |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {results['deliveries']:,} of {results['expected_deliveries']:,}"
        f" | {latency['p50']:.0f} ms | {latency['p90']:.0f} ms | {latency['p99']:.0f} ms"
        f" | {latency['max']:.0f} ms"
        f" | {results['server_cpu_share']:.0%}, {results['server_cpu_us_per_delivery']:.0f} us"
        f" | {results['client_cpu_share']:.0%}, {results['client_cpu_us_per_delivery']:.0f} us"
        f" | {results['load_average']['before']:.1f} -> {results['load_average']['after']:.1f} |",
        "",
        f"Out of order: {results['out_of_order']}; not sent by the bench: {results['unexpected']}."
        " CPU: the share of one core over the run, and per delivery.",
        "",
    ]
    return "\n".join(lines)


def write(report: dict[str, Any], output_dir: Path) -> tuple[Path, Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = output_dir / f"feed-{report['meta']['date'].replace('-', '').replace(':', '')}"
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path.write_text(markdown(report))
    return json_path, md_path


def main(config: FeedBenchConfig) -> int:
    report = run_feed_bench(config)
    json_path, md_path = write(report, config.output_dir)
    sys.stdout.write(markdown(report))
    print(f"\nwrote {json_path} and {md_path}", file=sys.stderr)
    results = report["results"]
    complete = results["deliveries"] == results["expected_deliveries"]
    return 0 if complete and not results["out_of_order"] else 1
