"""`graphql-api serve` as a real process: its log lines (JSON or text, each with its request's
id), workers, graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from devstack.env import dynamodb_env, mysql_env
from devstack.mariadb import MariaDBServer
from devstack.moto_server import MotoServer
from devstack.ports import free_port
from tests.utils.metrics import scrape, value

DEADLINE_S = 30.0


class ServeProcess:
    """The server in its own process; its stdout read line by line on a thread."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "graphql_api", "serve", "--port", str(self.port), *args],
            env={"PATH": os.environ["PATH"], **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for_line(self, predicate: Callable[[str], bool]) -> str:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"no such line within {DEADLINE_S} s; seen: {self.seen}")

    def rest_of_output(self) -> list[str]:
        """Everything the process wrote, once it has exited and its pipe is drained."""
        self.process.wait(timeout=DEADLINE_S)
        self._reader.join(timeout=DEADLINE_S)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=DEADLINE_S)
        assert self.process.stdout is not None
        self.process.stdout.close()


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[ServeProcess]:
    server = ServeProcess(env, *args)
    try:
        server.wait_for_line(lambda line: "Uvicorn running on" in line)
        yield server
    finally:
        server.stop()


def poll(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {DEADLINE_S} s")
        time.sleep(0.05)


def _in_flight(base_url: str) -> float:
    with httpx.Client(base_url=base_url) as http:
        samples, _ = scrape(http)
    return value(samples, "graphql_api_requests_in_flight")


def _answers_health(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz").status_code == 200
    except httpx.TransportError:
        return False


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_sigterm_lets_the_request_in_flight_finish_then_stops_the_relay_and_closes_the_pool(
    seeded_mariadb: MariaDBServer, moto: MotoServer
) -> None:
    # MySQL leads and DynamoDB follows: the outbox relay runs beside the server.
    env = {
        **dynamodb_env(moto),
        **mysql_env(
            seeded_mariadb,
            GRAPHQL_API_MYSQL_CONNECT_TIMEOUT="60",
            GRAPHQL_API_MYSQL_QUERY_TIMEOUT="60",
            GRAPHQL_API_REQUEST_TIMEOUT="60",
        ),
        "GRAPHQL_API_LOG_FORMAT": "json",
    }
    answers: list[httpx.Response] = []
    with serving(env) as server:
        seeded_mariadb.pause()
        try:
            request = threading.Thread(
                target=lambda: answers.append(
                    httpx.post(
                        f"{server.base_url}/graphql",
                        json={"query": 'query InFlight { customer(id: "C-00001") { id } }'},
                        timeout=60,
                    )
                )
            )
            request.start()
            poll(lambda: _in_flight(server.base_url) == 1, "the request reaching the server")
            server.process.send_signal(signal.SIGTERM)
            # New connections are refused at once; the one in flight waits for MySQL.
            poll(lambda: _refuses_connections(server.port), "the listener closing")
            assert request.is_alive()
            assert server.process.poll() is None
        finally:
            seeded_mariadb.resume()
        request.join(timeout=DEADLINE_S)
        output = server.rest_of_output()
    [response] = answers
    assert response.status_code == 200
    assert response.json() == {
        "data": {"customer": {"id": "C-00001"}},
        "extensions": {
            "stores": {"used": ["MYSQL"], "degraded": False},
            "cost": {"requestedQueryCost": 1, "maximumQueryCost": 100_000},
        },
    }
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert server.process.returncode == -signal.SIGTERM
    lines = [json.loads(line) for line in output]
    messages = [line["message"] for line in lines]
    access = next(i for i, line in enumerate(lines) if line.get("operations") == ["InFlight"])
    assert lines[access]["status"] == 200
    assert lines[access]["request_id"] == response.headers["x-request-id"]
    assert "outbox relay started for DynamoDB table salepoint" in messages
    relay_stopped = next(i for i, m in enumerate(messages) if m.startswith("outbox relay stopped"))
    # The relay stops after the request in flight, and before the pool it uses closes.
    assert access < relay_stopped < messages.index("MySQL pool closed")
    assert "Application shutdown complete." in messages


def test_every_output_line_is_json_with_the_access_line(seeded_mariadb: MariaDBServer) -> None:
    with serving(mysql_env(seeded_mariadb, GRAPHQL_API_LOG_FORMAT="json")) as server:
        httpx.post(
            f"{server.base_url}/graphql",
            json={"query": 'query One { customer(id: "C-00001") { id } }'},
            headers={"X-Request-ID": "json-line-1"},
        )
        line = server.wait_for_line(lambda text: "json-line-1" in text)
        server.process.send_signal(signal.SIGTERM)
        output = server.rest_of_output()
    access: dict[str, Any] = json.loads(line)
    assert access["logger"] == "graphql_api.access"
    assert access["operations"] == ["One"]
    # The stores the response's extensions reported, from the chain's StoreUsage.
    assert (access["stores"], access["degraded"]) == (["MYSQL"], False)
    assert access["outcome"] == "ok"
    assert len(output) > 5
    for text in output:
        json.loads(text)


def test_development_lines_are_text_and_a_fallback_warning_names_its_request(
    moto: MotoServer,
) -> None:
    # MySQL at a port nothing listens on: the read falls back to DynamoDB, and the
    # breaker (one failure opens it) opens, both inside the request.
    env = dynamodb_env(
        moto,
        RDS_ENDPOINT="127.0.0.1",
        RDS_PORT=str(free_port()),
        RDS_USERNAME="nobody",
        GRAPHQL_API_BREAKER_FAILURES="1",
        GRAPHQL_API_OUTBOX_RELAY="false",
    )
    with serving(env) as server:
        answer = httpx.post(
            f"{server.base_url}/graphql",
            json={"query": 'query Fallen { customer(id: "C-00001") { source } }'},
            headers={"X-Request-ID": "text-fb-1"},
        )
        assert answer.json()["data"] == {"customer": {"source": "DYNAMODB"}}
        server.wait_for_line(lambda text: "graphql_api.access [text-fb-1]" in text)
        server.process.send_signal(signal.SIGTERM)
        output = server.rest_of_output()
    mine = [line for line in output if "[text-fb-1]" in line]
    fallback = next(line for line in mine if "served by fallback store dynamodb" in line)
    assert " WARNING graphql_api.stores.chain [text-fb-1] read customer" in fallback
    assert any("circuit breaker for mysql opened (connection)" in line for line in mine)
    access = next(line for line in mine if "graphql_api.access" in line)
    assert 'operations=["Fallen"]' in access
    assert "degraded=true" in access
    # Start-up lines belong to no request; none of them is JSON in development.
    assert any(line.split()[1:3] == ["INFO", "graphql_api.resources"] for line in output)
    assert not any(line.startswith("{") for line in output)


def test_workers_share_one_view_of_the_metrics() -> None:
    requests = 8
    with serving({"GRAPHQL_API_WORKERS": "2"}) as server:
        # The parent binds the socket; it listens once a worker has started.
        poll(lambda: _answers_health(server.base_url), "a worker answering")
        for _ in range(requests):
            # A new connection each time, so either worker may take it.
            httpx.post(
                f"{server.base_url}/graphql",
                json={"query": 'query Count { customer(id: "C-00001") { id } }'},
            )
        with httpx.Client(base_url=server.base_url) as http:
            samples, _ = scrape(http)
    assert value(samples, "graphql_api_requests_total", operation="Count", outcome="ok") == requests
