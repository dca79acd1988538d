"""`make dev` as a developer uses it: start, query, stop MariaDB, watch the fallback, Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import IO

import httpx

from devstack.ports import free_port

QUERY = {"query": '{ customer(id: "C-00001") { id source } }'}


def _read_until(stream: IO[str], marker: str) -> list[str]:
    lines = []
    for line in stream:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"the dev stack ended before printing {marker!r}: {lines}")


def _source(url: str) -> str:
    body = httpx.post(f"{url}/graphql", json=QUERY, timeout=30).json()
    source: str = body["data"]["customer"]["source"]
    return source


def test_dev_stack_serves_falls_back_recovers_and_stops_cleanly() -> None:
    port = free_port()
    stack = subprocess.Popen(
        [sys.executable, "-m", "devstack.dev_stack", "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert stack.stdin is not None
    assert stack.stdout is not None
    url = f"http://127.0.0.1:{port}"
    try:
        printed = "".join(_read_until(stack.stdout, "ready:"))
        assert f"{url}/graphql" in printed
        assert "DYNAMODB_TABLE=salepoint-dev" in printed
        assert _source(url) == "MYSQL"
        stack.stdin.write("mysql stop\n")
        stack.stdin.flush()
        _read_until(stack.stdout, "done: mysql stop")
        assert _source(url) == "DYNAMODB"
        stack.stdin.write("mysql start\n")
        stack.stdin.flush()
        _read_until(stack.stdout, "done: mysql start")
        deadline = time.monotonic() + 10
        while _source(url) != "MYSQL":
            assert time.monotonic() < deadline, "reads did not come back to MySQL in 10 s"
            time.sleep(0.2)
    finally:
        stack.send_signal(signal.SIGINT)
        rest = stack.communicate(timeout=60)[0]
    assert stack.returncode == 0
    assert "stopped: API, moto and MariaDB" in rest
    try:
        httpx.get(f"{url}/healthz", timeout=2)
        raise AssertionError("the API still answers after Ctrl-C")
    except httpx.ConnectError:
        pass
