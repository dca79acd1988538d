"""The real app on a real port: uvicorn in a thread, for tests to talk HTTP to."""

from __future__ import annotations

import asyncio
import functools
import ssl
import sys
import threading
import time
from pathlib import Path
from typing import Any, Final

import httpx
import uvicorn
from starlette.types import ASGIApp

from devstack.ports import free_port
from devstack.process import ServerProcess, Service, answers_http

_START_TIMEOUT_S: Final = 30.0


class _NotifyingServer(uvicorn.Server):
    """Sets an event once the socket listens, so callers wait on it, not on a timer."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()


class AppServer(Service):
    """In a thread of this process, so a test can reach into the app it serves."""

    def __init__(self, app: ASGIApp, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self._ready = threading.Event()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            # As `graphql-api serve` runs it (cli.py).
            ws_per_message_deflate=False,
        )
        self._server = _NotifyingServer(config, self._ready)
        self._thread = threading.Thread(target=self._run, name=f"app:{self.port}", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.run(self._server.serve())

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        # Waits on uvicorn's signal; a thread that ended (a port taken) ends the wait.
        while not self._ready.wait(timeout=0.05):
            if not self._thread.is_alive():
                raise RuntimeError(f"the app on port {self.port} stopped during start-up")
            if time.monotonic() > deadline:
                self._server.should_exit = True
                raise RuntimeError(f"the app did not start listening within {_START_TIMEOUT_S} s")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


class ApiProcess(ServerProcess):
    """`graphql-api serve` in its own process, as deployed; ready once /healthz answers."""

    name = "graphql-api serve"

    def __init__(
        self, *, env: dict[str, str], log_path: Path | None, port: int | None = None
    ) -> None:
        super().__init__(log_path=log_path, env=env)
        self.port = port or free_port()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "graphql_api", "serve", "--port", str(self.port)]

    def probe(self) -> bool:
        return answers_http(f"{self.base_url}/healthz", timeout_s=1.0)


@functools.cache
def _shared_ssl_context() -> ssl.SSLContext:
    # The clients speak plain HTTP to loopback, yet httpx builds a TLS context (CA
    # bundle and all, about 25 ms) for each client unless given one: they share one.
    return ssl.create_default_context()


class GraphQLClient:
    """Posts GraphQL over HTTP and insists on a 200 with a JSON body."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30, verify=_shared_ssl_context())

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a response that must have no errors."""
        body = self.post(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def close(self) -> None:
        self.http.close()
