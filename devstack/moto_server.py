"""moto in server mode: a real DynamoDB-protocol endpoint in its own process.

Started on a free port on 127.0.0.1, ready once it answers HTTP. `kill()` then
`start()` brings it back on the same port, empty: moto keeps its tables in memory;
`pause()` is an outage that keeps them (requests hang until their timeout).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from devstack.ports import free_port
from devstack.process import ServerProcess, ServerProcessError, answers_http


class MotoServerError(ServerProcessError):
    """moto_server did not start, or stopped on its own."""


class MotoServer(ServerProcess):
    name = "moto"
    error = MotoServerError
    startup_error = MotoServerError
    host: Final = "127.0.0.1"

    def __init__(
        self, *, log_path: Path, port: int | None = None, startup_timeout_s: float = 30.0
    ) -> None:
        super().__init__(
            log_path=log_path, startup_timeout_s=startup_timeout_s, shutdown_timeout_s=10.0
        )
        self.port = free_port() if port is None else port

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]

    def probe(self) -> bool:
        return answers_http(f"{self.endpoint_url}/moto-api/data.json")
