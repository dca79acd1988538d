"""Slow and sloppy clients at the HTTP edge, over raw sockets to a real server."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from devstack.app_server import AppServer
from devstack.env import serve
from graphql_api.web.body_limit import MAX_HEADER_BYTES, MAX_HEADERS
from graphql_api.web.log_format import JsonFormatter

BODY_TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def app() -> Iterator[AppServer]:
    with serve({"GRAPHQL_API_BODY_TIMEOUT": str(BODY_TIMEOUT_S)}) as server:
        yield server


def _connect(app: AppServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", app.port), timeout=30)


def _start_post(connection: socket.socket, *, declared: int, sent: bytes) -> None:
    head = (
        "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    connection.sendall(head.encode() + sent)


def _read_response(connection: socket.socket) -> tuple[bytes, bytes]:
    """One response: its head, and its body of Content-Length bytes."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head, body


def _read_until_closed(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_a_body_that_stalls_is_refused_with_408_and_its_connection_closed(
    app: AppServer,
) -> None:
    with _connect(app) as connection:
        _start_post(connection, declared=100, sent=b'{"query"')
        answer = _read_until_closed(connection)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    [error] = json.loads(body)["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == f"The request body did not arrive within {BODY_TIMEOUT_S:g} s."


def test_a_body_that_arrives_in_pieces_within_the_time_is_answered(app: AppServer) -> None:
    body = json.dumps({"query": "{ __typename }"}).encode()
    with _connect(app) as connection:
        _start_post(connection, declared=len(body), sent=body[:5])
        connection.sendall(body[5:])
        head, rest = _read_response(connection)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert json.loads(rest)["data"] == {"__typename": "Query"}


def test_a_client_gone_mid_body_is_logged_at_info_not_as_an_error(
    app: AppServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="graphql_api")
    with _connect(app) as connection:
        _start_post(connection, declared=100, sent=b'{"query"')

    def gone() -> list[logging.LogRecord]:
        # Lines of other tests' requests may land meanwhile (the server has its own thread).
        return [
            record
            for record in caplog.records
            if record.name == "graphql_api.access"
            and json.loads(JsonFormatter().format(record))["status"] == 499
        ]

    deadline = time.monotonic() + 10
    while not gone():
        assert time.monotonic() < deadline, "no access log line for the client gone"
        time.sleep(0.02)
    [record] = gone()
    assert record.levelno == logging.INFO
    assert json.loads(JsonFormatter().format(record))["error_codes"] == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param([(f"x-h{i}", "v") for i in range(MAX_HEADERS - 10)], 200, id="many-within"),
        pytest.param([(f"x-h{i}", "v") for i in range(MAX_HEADERS + 1)], 431, id="too-many"),
        pytest.param([("x-big", "v" * (MAX_HEADER_BYTES - 1000))], 200, id="large-within"),
        pytest.param([("x-big", "v" * MAX_HEADER_BYTES)], 431, id="too-large"),
    ],
)
def test_headers_beyond_their_caps_are_431(
    app: AppServer, headers: list[tuple[str, str]], status: int
) -> None:
    with httpx.Client(base_url=app.base_url) as http:
        response = http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == status, response.text
    if status == 431:
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert f"at most {MAX_HEADERS} headers" in error["message"]
