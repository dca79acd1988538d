"""The API and its peers as separate server processes on loopback, and their meters."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from bench.credentials import credentials
from bench.operations import Peer
from devstack.ports import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PR_SET_PDEATHSIG = 1
_START_TIMEOUT_S = 60.0


def _command(peer: Peer, port: int) -> list[str]:
    where = ["--host", "127.0.0.1", "--port", str(port)]
    if peer is Peer.API:
        # `graphql-api serve`, as deployed: one uvicorn worker in this process.
        return [sys.executable, "-m", "graphql_api", "serve", *where, "--workers", "1"]
    return [sys.executable, "-m", f"bench.peers.{peer.value}", *where]


def _die_with_parent() -> Callable[[], None]:
    # A benchmark killed by a signal must not leave servers behind.
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return preexec


class ServerProcess:
    """One server process; reads its CPU time and peak RSS from /proc."""

    def __init__(self, peer: Peer, env: Mapping[str, str], log_dir: Path) -> None:
        self.peer = peer
        self.port = free_port()
        self._env = {**os.environ, **env}
        self._log_path = log_dir / f"{peer.value}.log"
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self) -> None:
        self.launch()
        self.wait_until_healthy()

    def launch(self) -> None:
        self._log = self._log_path.open("ab")
        self._process = subprocess.Popen(
            _command(self.peer, self.port),
            cwd=REPO_ROOT,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(),
        )

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.peer.value} exited at start:\n{self.log_tail()}")
            try:
                # A fixed http://127.0.0.1 URL, no scheme from outside.
                health = f"{self.base_url}/healthz"
                with urllib.request.urlopen(health, timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        raise RuntimeError(f"{self.peer.value} did not answer /healthz:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self._log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # Fields after the command name, which may hold spaces, closed by ")".
        after_name = stat.rsplit(")", 1)[1].split()
        return (int(after_name[11]) + int(after_name[12])) / _CLOCK_TICKS

    def reset_peak_rss(self) -> bool:
        """Restart the kernel's peak-RSS mark (VmHWM); False where that is not allowed."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def peak_rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def wait_until_idle(self, *, quiet_s: float = 0.3, timeout_s: float = 180.0) -> None:
        """Returns once the server has used no CPU for `quiet_s` (requests left over
        from a finished wrk run are done), so the next run starts on a quiet server."""
        deadline = time.monotonic() + timeout_s
        last = self.cpu_seconds()
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.cpu_seconds()
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return
        raise RuntimeError(f"{self.peer.value} stayed busy for {timeout_s} s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

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


def server_env(database_env: Mapping[str, str], *, max_page_size: int) -> dict[str, str]:
    """Production-like settings, the same for the API and both peers."""
    return {
        **database_env,
        "GRAPHQL_API_ENV": "production",
        # Production requires authentication; every request carries a manager token.
        "GRAPHQL_API_JWT_SECRET": credentials().secret,
        "GRAPHQL_API_STORES": "mysql",
        "GRAPHQL_API_GRAPHIQL": "false",
        # WARNING: no access log line per request, in the API and the peers alike.
        "GRAPHQL_API_LOG_LEVEL": "WARNING",
        # The scaling line asks O2 for up to 1,000 customers; the default cap is 100.
        "GRAPHQL_API_MAX_PAGE_SIZE": str(max_page_size),
    }


class Servers:
    """The API and both peers, started together (in parallel), stopped together."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.by_peer = {peer: ServerProcess(peer, env, log_dir) for peer in Peer}

    def __enter__(self) -> Self:
        try:
            for server in self.by_peer.values():
                server.launch()
            for server in self.by_peer.values():
                server.wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        for server in self.by_peer.values():
            server.stop()
