"""Live updates across replicas: two `graphql-api serve` processes over one MariaDB.

A change made through one replica reaches subscribers of both, in order, once;
a subscriber that reconnects (to either replica) with its cursor gets what it
missed; an event id committed after a higher one is delivered in id order; a
token is checked at connection_init and its expiry closes the socket; MariaDB
killed and restarted mid-stream pauses the feed, which says so, and loses
nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
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
    SUBSCRIPTION,
    after_polls,
    api_client,
    assign,
    change_status,
    collect,
    events,
    feed_message,
    manager_token,
    subscribed,
    viewer_token,
)
from tests.utils.mariadb import reseed
from tests.utils.metrics import scrape, value

pytestmark = pytest.mark.long_running

GAP_TIMEOUT_S = 2.0
ENV = {
    **auth_env(GRAPHQL_API_JWT_LEEWAY="0"),
    "GRAPHQL_API_FEED_POLL_INTERVAL": "0.1",
    "GRAPHQL_API_FEED_GAP_TIMEOUT": str(GAP_TIMEOUT_S),
    # Each test's writes commit at once: no wait for a pooled connection is long.
    "GRAPHQL_API_MYSQL_CONNECT_TIMEOUT": "1",
}


class Replicas:
    def __init__(self, mariadb: MariaDBServer, logs: Path) -> None:
        env = {**mysql_env(mariadb), **ENV}
        self.mariadb = mariadb
        self.a = ApiProcess(env=env, log_path=logs / "a.log")
        self.b = ApiProcess(env=env, log_path=logs / "b.log")


@pytest.fixture(scope="module")
def replicas(
    mariadb: MariaDBServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    # Seeded once, before the servers start: their feeds start after the newest
    # event, and a reseed would hand out lower ids again.
    reseed(mariadb)
    servers = Replicas(mariadb, tmp_path_factory.mktemp("live"))
    servers.a.launch()
    servers.b.launch()
    try:
        servers.a.wait_until_ready()
        servers.b.wait_until_ready()
        yield servers
    finally:
        servers.a.stop()
        servers.b.stop()
        if not mariadb.running:
            mariadb.start()


def _notes(messages: list[dict[str, Any]]) -> list[str | None]:
    return [message["note"] for message in messages]


async def _noted(client: LiveClient, id: str, notes: set[str]) -> list[str | None]:
    """The notes of the next events an unfiltered subscription gets that carry
    one of `notes`, in the order they came, until each has come once; events of
    other tests (their feeds may pass them late) are left aside."""
    got: list[str | None] = []
    while not notes <= set(got):
        message = await feed_message(client, id)
        if message.get("note") in notes:
            got.append(message["note"])
    return got


def test_a_change_through_one_replica_reaches_every_replica_in_order(replicas: Replicas) -> None:
    async def scenario() -> None:
        viewer = viewer_token()
        on_b = await LiveClient.open(replicas.b.base_url, token=viewer)
        on_a = await LiveClient.open(replicas.a.base_url, token=viewer)
        customer = await subscribed(on_b, customerId="C-00011")
        new_rep = await subscribed(on_b, salesRepId="SR-019")
        everything = await subscribed(on_a)
        async with api_client(replicas.a.base_url, manager_token()) as http:
            for step in range(3):
                await change_status(http, "C-00011", f"across-{step}")
            await assign(http, "C-00011", "SR-019", "across-move")
        expected = ["across-0", "across-1", "across-2", "across-move"]
        on_customer = await events(on_b, customer[0], 4)
        assert _notes(on_customer) == expected
        cursors = [message["cursor"] for message in on_customer]
        assert len(set(cursors)) == 4
        # The rep's feed holds the move to the rep; the status changes were another rep's.
        (moved,) = await events(on_b, new_rep[0], 1)
        assert moved == {**moved, "note": "across-move", "toSalesRepId": "SR-019"}
        assert moved["salesRepId"] == "SR-019"
        assert await _noted(on_a, everything[0], set(expected)) == expected
        # What B's metrics say of it: two subscribers, five deliveries (four to the
        # customer's, one to the rep's), each event's lag from its write observed.
        with httpx.Client(base_url=replicas.b.base_url) as http:
            samples, _ = scrape(http)
        assert value(samples, "graphql_api_feed_subscribers") == 2
        assert value(samples, "graphql_api_feed_events_delivered_total") >= 5
        assert value(samples, "graphql_api_feed_poll_lag_seconds_count") >= 4
        assert value(samples, "graphql_api_feed_paused") == 0
        await on_a.close()
        await on_b.close()

    asyncio.run(scenario())


def test_a_subscriber_that_reconnects_with_its_cursor_misses_nothing(replicas: Replicas) -> None:
    async def scenario() -> None:
        viewer = viewer_token()
        first = await LiveClient.open(replicas.a.base_url, token=viewer)
        id, live = await subscribed(first, customerId="C-00012")
        await first.close()
        async with api_client(replicas.b.base_url, manager_token()) as http:
            for step in range(3):
                await change_status(http, "C-00012", f"missed-{step}")
            # Back on the other replica, with the cursor of the status message.
            second = await LiveClient.open(replicas.b.base_url, token=viewer)
            id = await second.subscribe(
                SUBSCRIPTION, {"customerId": "C-00012", "after": live["resumeAfter"]}
            )
            # What this replica's feed had passed comes from the table, the rest
            # live: LIVE comes between them (at the end, when it had passed all).
            missed, statuses = await collect(second, id, 3)
            assert _notes(missed) == ["missed-0", "missed-1", "missed-2"]
            if not statuses:
                statuses.append(await feed_message(second, id))
            assert [status["state"] for status in statuses] == ["LIVE"]
            await change_status(http, "C-00012", "live-again")
            assert _notes(await events(second, id, 1)) == ["live-again"]
            await second.close()
            # The cursor of an event resumes right after that event.
            third = await LiveClient.open(replicas.a.base_url, token=viewer)
            id = await third.subscribe(
                SUBSCRIPTION, {"customerId": "C-00012", "after": missed[0]["cursor"]}
            )
            again, _ = await collect(third, id, 3)
            assert _notes(again) == ["missed-1", "missed-2", "live-again"]
            await third.close()

    asyncio.run(scenario())


def _insert_event(connection: Any, customer_id: str, note: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customer_events (customer_id, kind, occurred_at, actor, note)"
            " VALUES (%s, 'UPDATED', %s, 'test', %s)",
            (customer_id, datetime.now(UTC).replace(tzinfo=None), note),
        )


def test_an_id_committed_after_a_higher_one_is_delivered_in_id_order(replicas: Replicas) -> None:
    async def scenario() -> None:
        client = await LiveClient.open(replicas.b.base_url, token=viewer_token())
        id, _ = await subscribed(client)
        held = replicas.mariadb.connect()
        try:
            held.begin()
            _insert_event(held, "C-00013", "committed-late")  # takes the lower id
            async with api_client(replicas.a.base_url, manager_token()) as http:
                await change_status(http, "C-00014", "committed-first")
            await after_polls(replicas.b.base_url, 5)
            # The higher id is committed and polled, but waits for the lower one.
            with pytest.raises(TimeoutError):
                await client.next(id, timeout_s=0.01)
            held.commit()
        finally:
            held.close()
        expected = ["committed-late", "committed-first"]
        assert await _noted(client, id, set(expected)) == expected
        await client.close()

    asyncio.run(scenario())


def test_an_id_rolled_back_holds_the_feed_back_only_for_the_gap_timeout(
    replicas: Replicas,
) -> None:
    async def scenario() -> None:
        client = await LiveClient.open(replicas.a.base_url, token=viewer_token())
        # A missing id holds back every event after it, this customer's too.
        id, _ = await subscribed(client, customerId="C-00016")
        rolled_back = replicas.mariadb.connect()
        try:
            rolled_back.begin()
            _insert_event(rolled_back, "C-00015", "never")
            rolled_back.rollback()  # its id stays unused for good
        finally:
            rolled_back.close()
        async with api_client(replicas.b.base_url, manager_token()) as http:
            await change_status(http, "C-00016", "after-a-hole")
        started = asyncio.get_running_loop().time()
        given_up_before = _given_up(replicas.a.base_url)
        assert _notes(await events(client, id, 1)) == ["after-a-hole"]
        # Held back until the missing id was given up as rolled back.
        assert asyncio.get_running_loop().time() - started >= GAP_TIMEOUT_S / 2
        assert _given_up(replicas.a.base_url) == given_up_before + 1
        await client.close()

    asyncio.run(scenario())


def _given_up(base_url: str) -> float:
    with httpx.Client(base_url=base_url) as http:
        samples, _ = scrape(http)
    return value(samples, "graphql_api_feed_given_up_event_ids_total")


def test_the_token_is_checked_at_connection_init(replicas: Replicas) -> None:
    async def scenario() -> None:
        url = replicas.a.base_url
        cases = {
            "missing": ({}, "A bearer token is required"),
            "invalid": ({"Authorization": "Bearer not-a-token"}, "not valid"),
            "expired": ({"Authorization": f"Bearer {viewer_token(exp=1)}"}, "expired"),
        }
        for params, reason in cases.values():
            client = await LiveClient.open(url, params=params, acknowledged=False)
            closed = await client.closed()
            assert (closed.code, reason in closed.reason) == (4403, True), closed
        # A token without a role connects, but may not subscribe.
        no_roles = hs256(claims("nobody@corp", roles=()))
        client = await LiveClient.open(url, token=no_roles)
        id = await client.subscribe(SUBSCRIPTION, {})
        refused = await client.next(id)
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        await client.close()

    asyncio.run(scenario())


def test_a_token_that_expires_closes_the_socket_with_4403(replicas: Replicas) -> None:
    async def scenario() -> None:
        expiring = viewer_token(exp=int(datetime.now(UTC).timestamp()) + 2)
        client = await LiveClient.open(replicas.a.base_url, token=expiring)
        id, _ = await subscribed(client, customerId="C-00017")
        closed = await client.closed()
        assert (closed.code, closed.reason) == (4403, "The bearer token has expired.")
        assert id

    asyncio.run(scenario())


def test_mariadb_killed_and_restarted_mid_stream_loses_nothing(replicas: Replicas) -> None:
    async def until_state(client: LiveClient, id: str, got: list[dict[str, Any]]) -> str:
        """Events into `got` until a status message comes; its state."""
        message = await feed_message(client, id)
        while message["__typename"] == "CustomerFeedEvent":
            got.append(message)
            message = await feed_message(client, id)
        assert message["reason"] == ("STORE_UNAVAILABLE" if message["state"] == "PAUSED" else None)
        return str(message["state"])

    async def scenario() -> None:
        viewer = viewer_token()
        subscribers: list[tuple[LiveClient, str, list[dict[str, Any]]]] = []
        for server in (replicas.a, replicas.b):
            client = await LiveClient.open(server.base_url, token=viewer)
            id, _ = await subscribed(client, customerId="C-00018")
            subscribers.append((client, id, []))
        async with api_client(replicas.a.base_url, manager_token()) as http:
            await change_status(http, "C-00018", "before-0")
        # Written straight to the table and MariaDB killed at once: the feeds
        # most likely have not polled them yet.
        writer = replicas.mariadb.connect()
        try:
            for step in range(1, 3):
                _insert_event(writer, "C-00018", f"before-{step}")
        finally:
            writer.close()
        replicas.mariadb.kill()
        try:
            for client, id, got in subscribers:
                assert await until_state(client, id, got) == "PAUSED"
        finally:
            replicas.mariadb.start()
        async with api_client(replicas.b.base_url, manager_token()) as http:
            for client, id, got in subscribers:
                assert await until_state(client, id, got) == "LIVE"
            await change_status(http, "C-00018", "after")
        for client, id, got in subscribers:
            got += await events(client, id, 4 - len(got))
            assert _notes(got) == ["before-0", "before-1", "before-2", "after"]
            await client.close()

    asyncio.run(scenario())
