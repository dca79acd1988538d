"""The API and its peers as separate server processes on loopback, and their meters."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path

from bench import proc
from bench.credentials import credentials
from bench.operations import Peer
from devstack.ports import free_port
from devstack.process import ServerProcess, Service, answers_http

REPO_ROOT = Path(__file__).resolve().parent.parent
# wait_until_idle's sample and the share of a core below which a server is idle.
_IDLE_SAMPLE_S = 0.1
_IDLE_SHARE = 0.01


class PeerProcess(ServerProcess):
    """One peer's server process; reads its CPU time and peak RSS from /proc."""

    def __init__(self, peer: Peer, env: Mapping[str, str], log_dir: Path) -> None:
        super().__init__(log_path=log_dir / f"{peer.value}.log", env=env, cwd=REPO_ROOT)
        self.name = peer.value
        self.peer = peer
        self.port = free_port()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        where = ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.peer is Peer.API:
            # `graphql-api serve`, as deployed: one uvicorn worker in this process.
            return [sys.executable, "-m", "graphql_api", "serve", *where, "--workers", "1"]
        return [sys.executable, "-m", f"bench.peers.{self.peer.value}", *where]

    def probe(self) -> bool:
        return answers_http(f"{self.base_url}/healthz", timeout_s=1.0)

    def cpu_seconds(self) -> float:
        """CPU time of the server's threads so far, exact (proc.run_time_seconds)."""
        return proc.run_time_seconds(self.pid)

    def reset_peak_rss(self) -> bool:
        """Restart the kernel's peak-RSS mark (VmHWM); False where that is not allowed."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def peak_rss_bytes(self) -> int:
        return proc.peak_rss_bytes(self.pid)

    def wait_until_idle(self, *, quiet_s: float = 0.3, timeout_s: float = 180.0) -> None:
        """Returns once the server has been idle for `quiet_s` (requests left over
        from a finished wrk run are done), so the next run starts on a quiet server.
        Idle: under 1% of a core per tenth of a second; the exact meter sees the
        event loop's own wake-ups, which a clock-tick meter rounded to nothing."""
        deadline = time.monotonic() + timeout_s
        last = self.cpu_seconds()
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(_IDLE_SAMPLE_S)
            now = self.cpu_seconds()
            if now - last > _IDLE_SAMPLE_S * _IDLE_SHARE:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_s:
                return
            last = now
        raise RuntimeError(f"{self.peer.value} stayed busy for {timeout_s} s")


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


class Servers(Service):
    """The API and both peers, started together (in parallel), stopped together."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.by_peer = {peer: PeerProcess(peer, env, log_dir) for peer in Peer}

    def start(self) -> None:
        try:
            for server in self.by_peer.values():
                server.launch()
            for server in self.by_peer.values():
                server.wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for server in self.by_peer.values():
            server.stop()
