"""1,000 subscribers on one `graphql-api serve` process, driven from this one.

MariaDB's own counters show one statement per poll with one subscriber and
with 1,000; the process's resident memory, read from /proc, gives the memory a
subscriber (with its connection) costs; one change reaches every one of them
once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.app_server import ApiProcess
from devstack.env import mysql_env
from devstack.live_client import LiveClient
from devstack.mariadb import MariaDBServer
from tests.utils.jwt_tokens import auth_env, claims, hs256
from tests.utils.live import (
    after_polls,
    api_client,
    change_status,
    feed_message,
    manager_token,
    polls,
    subscribed,
)
from tests.utils.mariadb import StatementCounter, reseed

pytestmark = pytest.mark.long_running

SUBSCRIBERS = 1_000
CUSTOMER, REP = "C-00021", "SR-001"  # C-00021 is SR-001's in the demo rows
# What a subscriber may cost the server, its connection included; measured at
# about 60 KB (README "Live updates").
MAX_BYTES_PER_SUBSCRIBER = 96 * 1024


@pytest.fixture(scope="module")
def server(
    mariadb: MariaDBServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    reseed(mariadb)
    env = {**mysql_env(mariadb), **auth_env(), "GRAPHQL_API_FEED_POLL_INTERVAL": "0.1"}
    log = tmp_path_factory.mktemp("scale") / "api.log"
    with ApiProcess(env=env, log_path=log) as process:
        yield process


def _resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc")


async def _statements_per_poll(server: ApiProcess, mariadb: MariaDBServer) -> float:
    """Statements MariaDB executed per poll of the feed, over 40 polls.

    Each read of MariaDB's counter is bracketed by reads of the poll counter, so
    the polls in between are known to lie between two numbers; one statement
    per poll means the statements lie between them too."""
    counter = StatementCounter(mariadb)

    def bracketed() -> tuple[float, int, float]:
        before = polls(server.base_url)
        statements = counter.total()
        return before, statements, polls(server.base_url)

    start = bracketed()
    await after_polls(server.base_url, 40)
    end = bracketed()
    statements = end[1] - start[1]
    fewest, most = end[0] - start[2], end[2] - start[0]
    assert fewest <= statements <= most, (fewest, statements, most)
    return statements / ((fewest + most) / 2)


async def _subscriber(base_url: str, n: int) -> tuple[LiveClient, str]:
    token = hs256(claims(f"viewer-{n:04d}", ("viewer",)))
    client = await LiveClient.open(base_url, token=token)
    # A mix of filters that all hold the change to come.
    variables: dict[str, Any] = [{"customerId": CUSTOMER}, {"salesRepId": REP}, {}][n % 3]
    id, _ = await subscribed(client, **variables)
    return client, id


def test_a_thousand_subscribers_cost_one_statement_per_poll(
    server: ApiProcess, mariadb: MariaDBServer
) -> None:
    async def scenario() -> dict[str, float]:
        first = [await _subscriber(server.base_url, 0)]
        figures = {"statements_per_poll_1": await _statements_per_poll(server, mariadb)}
        resident_one = _resident_bytes(server.pid)
        rest: list[tuple[LiveClient, str]] = []
        for start in range(1, SUBSCRIBERS, 100):
            batch = range(start, min(start + 100, SUBSCRIBERS))
            rest += await asyncio.gather(*(_subscriber(server.base_url, n) for n in batch))
        subscribers = first + rest
        figures["statements_per_poll_1000"] = await _statements_per_poll(server, mariadb)
        growth = _resident_bytes(server.pid) - resident_one
        figures["bytes_per_subscriber"] = growth / (SUBSCRIBERS - 1)
        async with api_client(server.base_url, manager_token()) as http:
            started = asyncio.get_running_loop().time()
            await change_status(http, CUSTOMER, "to-everyone")
        received = await asyncio.gather(*(feed_message(c, id) for c, id in subscribers))
        figures["seconds_to_reach_all"] = asyncio.get_running_loop().time() - started
        assert {m.get("note") for m in received} == {"to-everyone"}
        assert len({m["cursor"] for m in received}) == 1
        with httpx.Client(base_url=server.base_url) as http:
            subscribers_gauge = http.get("/metrics").text
        assert f"graphql_api_feed_subscribers {float(SUBSCRIBERS)}" in subscribers_gauge
        for client, _ in subscribers:
            await client.close()
        return figures

    figures = asyncio.run(scenario())
    print("live feed at scale:", figures)  # the figures the README quotes (pytest -s)
    assert 0 < figures["bytes_per_subscriber"] < MAX_BYTES_PER_SUBSCRIBER
