"""moto in server mode: a real DynamoDB-protocol endpoint in its own process.

Started on a free port on 127.0.0.1, ready once it answers HTTP, stopped with
SIGTERM (SIGKILL after a grace period). `kill()` then `start()` brings it back
on the same port, empty: moto keeps its tables in memory.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import httpx

from devstack.ports import free_port

_PR_SET_PDEATHSIG: Final = 1
_POLL_INTERVAL: Final = 0.05


class MotoServerError(RuntimeError):
    """moto_server did not start, or stopped on its own."""


def _die_with_parent() -> None:
    # The kernel kills moto when the test process dies, even by SIGKILL, so a
    # killed run leaves no server behind. Linux only; elsewhere stop() does it.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class MotoServer:
    host: Final = "127.0.0.1"

    def __init__(
        self, *, log_path: Path, port: int | None = None, startup_timeout: float = 30.0
    ) -> None:
        self.port = free_port() if port is None else port
        self._log_path = log_path
        self._startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            raise MotoServerError(f"moto is already running on port {self.port}")
        command = [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]
        with self._log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                # Only calls prctl between fork and exec, which is safe with threads.
                preexec_fn=_die_with_parent
                if threading.current_thread() is threading.main_thread()
                else None,
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        """Poll with real HTTP requests until moto answers, within the deadline."""
        assert self._proc is not None
        deadline = time.monotonic() + self._startup_timeout
        last_error: Exception | None = None
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise MotoServerError(
                        f"moto exited with code {self._proc.returncode} during start-up;"
                        f" see {self._log_path}"
                    )
                try:
                    client.get(f"{self.endpoint_url}/moto-api/data.json").raise_for_status()
                except httpx.HTTPError as error:
                    last_error = error
                    time.sleep(_POLL_INTERVAL)  # readiness poll interval
                    continue
                return
        self.kill()
        raise MotoServerError(
            f"moto did not answer on {self.endpoint_url} within {self._startup_timeout} s"
            f" (last error: {last_error}); see {self._log_path}"
        )

    def stop(self, grace: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            # A paused server cannot act on SIGTERM until it runs again.
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would; its tables are gone with it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()

    def pause(self) -> None:
        """SIGSTOP: an outage that keeps the tables (requests hang until their timeout)."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
