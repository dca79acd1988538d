"""A server in a child process: the lifecycle MariaDB, moto and the benchmark's servers share.

`start()` spawns the command (the child dies with this process, even on SIGKILL),
then polls a readiness probe until it answers, the process exits, or the start-up
deadline passes. `stop()` sends SIGTERM (SIGCONT first if paused), waits the
shutdown grace period, then kills. Output goes to a log file, whose tail every
error carries (without a log file, it goes to this process's terminal).
`kill()`, `pause()` and `resume()` play crashes and stalls.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar, Final, Self, TypeVar

import httpx

_PR_SET_PDEATHSIG: Final = 1
_POLL_INTERVAL_S: Final = 0.05
_LOG_TAIL_LINES: Final = 40

T = TypeVar("T")


class ServerProcessError(RuntimeError):
    """A server process did not start, did not stop, or is not running."""


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGKILL when this process dies.

    atexit does not run when Python is killed by a signal; PR_SET_PDEATHSIG makes
    the kernel kill the child anyway, so a killed run leaves no server behind. The
    signal fires when the *thread* that forked exits, so it is only used from the
    main thread, whose exit is the process's exit. Linux only; elsewhere the atexit
    safety net and `stop()` do it. Only calls prctl between fork and exec, which is
    safe with threads.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died between fork and prctl; then nobody would kill us.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def answers_http(url: str, *, timeout_s: float = 2.0) -> bool:
    """True once `url` answers 200; False while nothing (or an error) answers."""
    try:
        return httpx.get(url, timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def log_tail(path: Path, offset: int = 0, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"(could not read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


class Service:
    """Something a test, the benchmark or `make dev` starts and stops: a context manager."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

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


_live: set[ServerProcess] = set()


@atexit.register
def _kill_leftovers() -> None:
    # Safety net for a run that forgets stop(): never leave a server behind.
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.kill()


class ServerProcess(Service):
    """One server process. Subclasses give `command()` and `probe()` (is it ready?)."""

    name: str = "server"
    error: ClassVar[type[Exception]] = ServerProcessError
    # Raised when it exits during start-up or is not ready in time.
    startup_error: ClassVar[type[Exception]] = ServerProcessError

    def __init__(
        self,
        *,
        log_path: Path | None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        startup_timeout_s: float = 60.0,
        shutdown_timeout_s: float = 30.0,
    ) -> None:
        self.log_path = log_path
        self._env = None if env is None else {**os.environ, **env}
        self._cwd = cwd
        self._startup_timeout_s = startup_timeout_s
        self._shutdown_timeout_s = shutdown_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._paused = False
        self._log_offset = 0

    def command(self) -> Sequence[str]:
        raise NotImplementedError

    def probe(self) -> bool:
        """One readiness check, quick and without side effects."""
        raise NotImplementedError

    # --- state ----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int:
        return self._require_running().pid

    # --- lifecycle --------------------------------------------------------------

    def start(self) -> None:
        self.launch()
        self.wait_until_ready()

    def launch(self) -> None:
        """Spawn the process without waiting for it; `wait_until_ready()` does that."""
        if self.running:
            raise self.error(f"{self.name} is already running (pid {self.pid})")
        command = list(self.command())
        with self._log() as log:
            self._proc = subprocess.Popen(
                command,
                cwd=self._cwd,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                # Own session: a terminal's Ctrl-C reaches only us, and we stop the
                # server in order instead of it dying half-way through.
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        self._paused = False
        _live.add(self)

    def wait_until_ready(self) -> None:
        self.wait_for(lambda: True if self.probe() else None)

    def wait_for(self, probe: Callable[[], T | None]) -> T:
        """Poll `probe` until it returns a value; fail if the process exits or the
        start-up deadline passes (then the process is killed)."""
        proc = self._require_started()
        deadline = time.monotonic() + self._startup_timeout_s
        while True:
            if proc.poll() is not None:
                self._forget_process()
                raise self.startup_error(
                    f"{self.name} exited with code {proc.returncode} during start-up;"
                    f" log tail ({self.log_path}):\n{self.log_tail()}"
                )
            found = probe()
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                self.kill()
                raise self.startup_error(
                    f"{self.name} was not ready within {self._startup_timeout_s} s;"
                    f" log tail ({self.log_path}):\n{self.log_tail()}"
                )
            time.sleep(_POLL_INTERVAL_S)  # readiness poll interval

    def stop(self) -> None:
        """SIGTERM, then SIGKILL past the grace period (an error). A no-op if not running."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            if self._paused:
                # A stopped process only acts on SIGTERM once continued.
                proc.send_signal(signal.SIGCONT)
            try:
                proc.wait(timeout=self._shutdown_timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
                raise self.error(
                    f"{self.name} did not stop within {self._shutdown_timeout_s} s and was"
                    f" killed; log tail ({self.log_path}):\n{self.log_tail()}"
                ) from None
        self._forget_process()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            # SIGKILL also ends a SIGSTOPped process; no SIGCONT needed.
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        proc.wait()
        self._forget_process()

    def pause(self) -> None:
        """SIGSTOP: an outage that keeps the process's sockets and state (requests
        hang until their timeout). Returns once the kernel reports it stopped."""
        proc = self._require_running()
        if self._paused:
            return
        proc.send_signal(signal.SIGSTOP)
        # The stop is asynchronous; WUNTRACED reports it without reaping the child.
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            proc.returncode = os.waitstatus_to_exitcode(status)
            self._forget_process()
            raise self.error(f"{self.name} exited while being paused:\n{self.log_tail()}")
        self._paused = True

    def resume(self) -> None:
        """SIGCONT; it resumes as the signal is sent, so there is nothing to wait for."""
        self._require_running().send_signal(signal.SIGCONT)
        self._paused = False

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The end of what the process wrote since its latest launch."""
        if self.log_path is None:
            return "(its output went to the terminal)"
        return log_tail(self.log_path, self._log_offset, lines)

    # --- internals ------------------------------------------------------------

    @contextlib.contextmanager
    def _log(self) -> Iterator[IO[bytes] | None]:
        """The log file opened for the child (our handle closes once it has its own)."""
        if self.log_path is None:
            yield None
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            log.write(f"--- {' '.join(self.command())}\n".encode())
            log.flush()
            yield log

    def _require_started(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise self.error(f"{self.name} has not been started")
        return self._proc

    def _require_running(self) -> subprocess.Popen[bytes]:
        proc = self._require_started()
        if proc.poll() is not None:
            raise self.error(f"{self.name} is not running (exit code {proc.returncode})")
        return proc

    def _forget_process(self) -> None:
        self._proc = None
        self._paused = False
        _live.discard(self)
