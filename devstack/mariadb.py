"""A throwaway MariaDB server for tests, benchmarks and ``make dev``.

Each :class:`MariaDBServer` owns a private data directory, socket, pid file and log
under ``base_dir`` and listens on 127.0.0.1 only, so many can run side by side
without docker and without touching a system-wide MariaDB.

Command line::

    python -m devstack.mariadb --ensure
        exit 0 when mariadbd is installed; as root, install Debian's
        ``mariadb-server`` package first when it is missing.
    python -m devstack.mariadb --serve [--port N] [--base-dir DIR] [--database NAME]
        start a server, print one JSON line with host/port/user/password/database,
        run until SIGINT or SIGTERM, then shut the server down cleanly.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

# types-PyMySQL supplies stubs when installed; the ignore keeps mypy quiet when it is
# not, and "unused-ignore" keeps it quiet when it is.
import pymysql  # type: ignore[import-untyped, unused-ignore]
import pymysql.err  # type: ignore[import-untyped, unused-ignore]

from .ports import free_port

if TYPE_CHECKING:
    from pymysql.connections import Connection  # type: ignore[import-untyped, unused-ignore]
    from pymysql.cursors import Cursor  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "DEFAULT_DATABASE",
    "MariaDBError",
    "MariaDBMissingError",
    "MariaDBServer",
    "MariaDBStartupError",
    "ensure_mariadb_installed",
    "find_mariadbd",
    "main",
]

DEFAULT_DATABASE: Final = "salepoint_db"
DEBIAN_PACKAGE: Final = "mariadb-server"

# mariadbd lives in /usr/sbin on Debian, which is not on a normal user's PATH.
_SEARCH_DIRS: Final = ("/usr/sbin", "/usr/libexec", "/usr/local/sbin", "/usr/local/bin", "/usr/bin")
# sun_path is 108 bytes on Linux; leave room for the terminating NUL.
_MAX_SOCKET_PATH: Final = 100
_POLL_INTERVAL: Final = 0.05
_LOG_TAIL_LINES: Final = 40
# MySQL error codes meaning "the server answered but refused these credentials".
_ACCESS_DENIED: Final = frozenset({1045, 1698})
# Root accounts that may log in; mariadb-install-db also creates root@<hostname>,
# which --skip-name-resolve ignores with a warning at every start, so it is dropped.
_ROOT_HOSTS: Final = ("localhost", "127.0.0.1", "::1")
_PR_SET_PDEATHSIG: Final = 1


class MariaDBError(RuntimeError):
    """The throwaway MariaDB server could not do what was asked."""


class MariaDBMissingError(MariaDBError):
    """mariadbd or mariadb-install-db is not installed."""


class MariaDBStartupError(MariaDBError):
    """mariadbd did not become ready; the message carries the tail of its log."""


def _find_executable(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found is not None:
            return found
        for directory in _SEARCH_DIRS:
            candidate = Path(directory) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def _find_binaries() -> tuple[str, str]:
    """Return the paths of ``mariadbd`` and ``mariadb-install-db``."""
    # The mysql* names are the pre-10.5 spellings, still shipped as links by some builds.
    mariadbd = _find_executable("mariadbd", "mysqld")
    install_db = _find_executable("mariadb-install-db", "mysql_install_db")
    missing = [
        name
        for name, path in (("mariadbd", mariadbd), ("mariadb-install-db", install_db))
        if path is None
    ]
    if mariadbd is None or install_db is None:
        raise MariaDBMissingError(
            f"{' and '.join(missing)} not found on PATH or in {', '.join(_SEARCH_DIRS)}; "
            f"install the Debian package {DEBIAN_PACKAGE!r} "
            f"(apt-get install -y {DEBIAN_PACKAGE}, or run "
            "`python -m devstack.mariadb --ensure` as root)"
        )
    return mariadbd, install_db


def find_mariadbd() -> str:
    """Return the path of ``mariadbd``, checking that ``mariadb-install-db`` exists too.

    Raises :class:`MariaDBMissingError` naming the Debian package when either is
    missing, since a server cannot be created without both.
    """
    return _find_binaries()[0]


def ensure_mariadb_installed() -> None:
    """Make sure mariadbd is installed, installing ``mariadb-server`` as root if needed.

    Raises :class:`MariaDBMissingError` when it is missing and cannot be installed
    here (not root, or no apt-get), and :class:`subprocess.CalledProcessError` when
    apt-get fails.
    """
    try:
        find_mariadbd()
    except MariaDBMissingError:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise
    else:
        return
    # noninteractive: the package's debconf questions must not wait for a terminal.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", DEBIAN_PACKAGE], check=True, env=env)
    find_mariadbd()


def _tail(path: Path, offset: int = 0, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"(could not read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _die_with_parent() -> Callable[[], None] | None:
    """Return a preexec_fn that makes the child get SIGKILL when this process dies.

    atexit does not run when Python is killed by a signal; PR_SET_PDEATHSIG makes
    the kernel kill mariadbd anyway, so a killed test run leaves no server behind.
    The signal fires when the *thread* that forked exits, so it is only used from
    the main thread, whose exit is the process's exit.
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


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


_live_servers: set[MariaDBServer] = set()


@atexit.register
def _kill_leftover_servers() -> None:
    # Safety net for sessions that forget stop(): never leave a mariadbd behind.
    for server in list(_live_servers):
        with contextlib.suppress(Exception):
            server.kill()


class MariaDBServer:
    """A private mariadbd on 127.0.0.1 with its data under ``base_dir``.

    ``start()`` initialises the data directory on first use, starts mariadbd, waits
    until it accepts a login, sets a random root password and creates ``database``.
    The data directory is kept across ``stop()``/``kill()``, so ``start()`` again (on
    the same port) finds the data that was there. The password is stored in
    ``base_dir/credentials.json`` so a new instance on the same ``base_dir`` can log in.
    """

    host: Final = "127.0.0.1"
    user: Final = "root"

    def __init__(
        self,
        *,
        base_dir: Path,
        port: int | None = None,
        database: str = DEFAULT_DATABASE,
        startup_timeout: float = 60.0,
        shutdown_timeout: float = 60.0,
    ) -> None:
        self._base_dir = Path(base_dir).resolve()
        # An auto-picked port can be lost to another process before mariadbd binds
        # it; only then may start() move to another port.
        self._port_was_picked = port is None
        self._port = free_port() if port is None else port
        self._database = database
        self._startup_timeout = startup_timeout
        self._shutdown_timeout = shutdown_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._paused = False
        self._socket_dir: Path | None = None
        self._password = self._load_password() or secrets.token_urlsafe(24)

    # --- properties -------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def password(self) -> str:
        return self._password

    @property
    def database(self) -> str:
        return self._database

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def data_dir(self) -> Path:
        return self._base_dir / "data"

    @property
    def log_path(self) -> Path:
        return self._base_dir / "mariadbd.log"

    @property
    def socket_path(self) -> Path:
        # pytest's tmp_path can be long; a Unix socket path cannot, so fall back to
        # a short private directory under the system temp dir.
        default = self._base_dir / "mariadbd.sock"
        if len(os.fsencode(default)) <= _MAX_SOCKET_PATH:
            return default
        if self._socket_dir is None:
            self._socket_dir = Path(tempfile.mkdtemp(prefix="mdb-"))
        return self._socket_dir / "mariadbd.sock"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def info(self) -> dict[str, str | int]:
        """Connection details, as printed by ``--serve``."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.database,
        }

    # --- lifecycle --------------------------------------------------------------

    def start(self) -> None:
        """Start mariadbd and return once it accepts logins and ``database`` exists."""
        if self.running:
            raise MariaDBError(f"mariadbd is already running (pid {self.pid})")
        mariadbd, install_db = _find_binaries()
        self._base_dir.mkdir(parents=True, exist_ok=True)
        (self._base_dir / "tmp").mkdir(exist_ok=True)
        if not self._credentials_path.exists():
            # A data dir without credentials is from a start that never finished
            # bootstrapping; its password state is unknown, so start afresh.
            shutil.rmtree(self.data_dir, ignore_errors=True)
        fresh = not self.data_dir.exists()
        if fresh:
            self._install_db(install_db)
        # Persist the password before setting it so a crash in between cannot
        # leave a server whose password nobody knows (readiness tries both).
        self._save_password()

        attempts = 3 if self._port_was_picked else 1
        for attempt in range(attempts):
            log_offset = _log_size(self.log_path)
            self._spawn(mariadbd)
            try:
                connection = self._wait_until_ready(log_offset, fresh=fresh)
            except MariaDBStartupError:
                lost_port = "already in use" in _tail(self.log_path, log_offset).lower()
                self._reap_after_failure()
                if lost_port and attempt + 1 < attempts:
                    self._port = free_port()
                    continue
                raise
            except BaseException:
                self._reap_after_failure()
                raise
            try:
                with connection:
                    self._bootstrap(connection)
            except BaseException:
                self._reap_after_failure()
                raise
            # Only a port that has served once is pinned: restarts must reuse it.
            self._port_was_picked = False
            return

    def stop(self) -> None:
        """Shut mariadbd down cleanly and wait for it to exit. A no-op if not running."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            if self._paused:
                # A stopped process only acts on SIGTERM once continued.
                proc.send_signal(signal.SIGCONT)
            try:
                proc.wait(timeout=self._shutdown_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self._forget_process()
                raise MariaDBError(
                    f"mariadbd did not shut down within {self._shutdown_timeout} s and was "
                    f"killed; log tail:\n{_tail(self.log_path)}"
                ) from None
        self._forget_process()

    def kill(self) -> None:
        """SIGKILL mariadbd, as a crash would. The data dir is kept for ``start()``."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            # SIGKILL also ends a SIGSTOPped process; no SIGCONT needed.
            proc.kill()
        proc.wait()
        self._forget_process()

    def pause(self) -> None:
        """SIGSTOP mariadbd: it keeps its sockets but answers nothing until resumed.

        Returns once the kernel reports the whole process stopped.
        """
        proc = self._require_running()
        if self._paused:
            return
        proc.send_signal(signal.SIGSTOP)
        # The stop is asynchronous; WUNTRACED reports it without reaping the child.
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            proc.returncode = os.waitstatus_to_exitcode(status)
            self._forget_process()
            raise MariaDBError(
                f"mariadbd exited while being paused; log tail:\n{_tail(self.log_path)}"
            )
        self._paused = True

    def resume(self) -> None:
        """SIGCONT a paused mariadbd."""
        proc = self._require_running()
        # SIGCONT resumes the process as it is sent, so there is nothing to wait for.
        proc.send_signal(signal.SIGCONT)
        self._paused = False

    def wait(self, timeout: float | None = None) -> int:
        """Block until mariadbd exits (e.g. it crashed) and return its exit code."""
        if self._proc is None:
            raise MariaDBError("mariadbd has not been started")
        return self._proc.wait(timeout=timeout)

    def connect(self) -> Connection[Cursor]:
        """A new autocommit pymysql connection to ``database`` over TCP."""
        return self._connect(self._password, database=self._database)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "paused" if self._paused else "running" if self.running else "stopped"
        return f"<MariaDBServer {self.host}:{self.port} {state} base_dir={self._base_dir}>"

    # --- internals --------------------------------------------------------------

    @property
    def _credentials_path(self) -> Path:
        return self._base_dir / "credentials.json"

    def _load_password(self) -> str | None:
        try:
            data: Any = json.loads(self._credentials_path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        password = data.get("password") if isinstance(data, dict) else None
        return password if isinstance(password, str) and password else None

    def _save_password(self) -> None:
        tmp = self._credentials_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"password": self._password}, out)
        os.replace(tmp, self._credentials_path)

    def _user_args(self) -> list[str]:
        # mariadbd refuses to run as root unless told to; as anyone else it runs as
        # the current user, and --user would only produce a warning.
        return ["--user=root"] if os.geteuid() == 0 else []

    def _sizing_args(self) -> list[str]:
        # Also given to mariadb-install-db so the redo log is created at its final
        # size instead of 96M and then resized at first start.
        return [
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=16M",
            "--innodb-log-buffer-size=8M",
        ]

    def _install_db(self, install_db: str) -> None:
        command = [
            install_db,
            "--no-defaults",
            f"--datadir={self.data_dir}",
            # normal: root@localhost/127.0.0.1/::1 with an empty password, which
            # _bootstrap replaces; "socket" would tie root to the OS user instead.
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            f"--tmpdir={self._base_dir / 'tmp'}",
            *self._user_args(),
            *self._sizing_args(),
        ]
        with self.log_path.open("ab") as log:
            log.write(f"--- {' '.join(command)}\n".encode())
            log.flush()
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=False
            )
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise MariaDBStartupError(
                f"mariadb-install-db failed with exit code {result.returncode}; "
                f"log tail ({self.log_path}):\n{_tail(self.log_path)}"
            )

    def _server_command(self, mariadbd: str) -> list[str]:
        return [
            mariadbd,
            "--no-defaults",  # must come first; ignore /etc/mysql and ~/.my.cnf
            *self._user_args(),
            f"--datadir={self.data_dir}",
            f"--socket={self.socket_path}",
            f"--pid-file={self._base_dir / 'mariadbd.pid'}",
            f"--tmpdir={self._base_dir / 'tmp'}",
            f"--port={self._port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            *self._sizing_args(),
            # Commits reach the OS at once but are fsynced once a second: a killed
            # mariadbd loses nothing, only a machine crash could.
            "--innodb-flush-log-at-trx-commit=2",
            "--skip-log-bin",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            # Same results whatever the machine's time zone is.
            "--default-time-zone=+00:00",
            "--max-connections=500",
        ]

    def _spawn(self, mariadbd: str) -> None:
        command = self._server_command(mariadbd)
        with self.log_path.open("ab") as log:
            log.write(f"--- {' '.join(command)}\n".encode())
            log.flush()
            # Without --log-error mariadbd logs to stderr, which also catches
            # messages printed before it would have opened a log file.
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                # Own session: a terminal's Ctrl-C reaches only us, and we stop the
                # server in order instead of it dying half-way through.
                start_new_session=True,
                # Only calls prctl between fork and exec, which is safe with threads.
                preexec_fn=_die_with_parent(),
            )
        self._paused = False
        _live_servers.add(self)

    def _connect(
        self, password: str, *, database: str | None = None, timeout: float | None = None
    ) -> Connection[Cursor]:
        connection: Connection[Cursor] = pymysql.connect(
            host=self.host,
            port=self._port,
            user=self.user,
            password=password,
            database=database,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=timeout if timeout is not None else 10,
            # The handshake read has no timeout by default; a paused or wedged
            # server must not hang the readiness loop.
            read_timeout=timeout,
            write_timeout=timeout,
        )
        return connection

    def _wait_until_ready(self, log_offset: int, *, fresh: bool) -> Connection[Cursor]:
        """Poll with real logins until one succeeds; return that connection."""
        proc = self._require_started()
        deadline = time.monotonic() + self._startup_timeout
        # A fresh data dir has an empty root password until _bootstrap sets ours.
        # Both are always tried, in case an earlier bootstrap died half-way; the
        # likely one goes first so the server does not log a failed login.
        passwords = ["", self._password] if fresh else [self._password, ""]
        last_error: Exception | None = None
        while True:
            if proc.poll() is not None:
                raise MariaDBStartupError(
                    f"mariadbd exited with code {proc.returncode} during start-up; "
                    f"log tail ({self.log_path}):\n{_tail(self.log_path, log_offset)}"
                )
            denied = 0
            for password in passwords:
                try:
                    return self._connect(password, timeout=2.0)
                except pymysql.err.OperationalError as exc:
                    last_error = exc
                    if exc.args and exc.args[0] in _ACCESS_DENIED:
                        denied += 1
                        continue
                    break  # not listening yet; no point trying another password
            if denied == len(passwords):
                raise MariaDBStartupError(
                    f"mariadbd on port {self._port} refused root with the known "
                    f"passwords: {last_error}; is another server on that port?"
                )
            if time.monotonic() >= deadline:
                raise MariaDBStartupError(
                    f"mariadbd did not accept connections on {self.host}:{self._port} "
                    f"within {self._startup_timeout} s (last error: {last_error}); "
                    f"log tail ({self.log_path}):\n{_tail(self.log_path, log_offset)}"
                )
            time.sleep(_POLL_INTERVAL)  # readiness poll interval

    def _bootstrap(self, connection: Connection[Cursor]) -> None:
        """Set our root password, drop other root accounts, create the database.

        Idempotent, so it runs at every start: that also creates ``database`` when
        an existing data dir is reused with a different name.
        """
        with connection.cursor() as cursor:
            cursor.execute("SELECT Host FROM mysql.user WHERE User = 'root'")
            hosts = {str(row[0]) for row in cursor.fetchall()}
            for host in hosts - set(_ROOT_HOSTS):
                cursor.execute("DROP USER 'root'@%s", (host,))
            for host in _ROOT_HOSTS:
                cursor.execute(
                    "CREATE USER IF NOT EXISTS 'root'@%s IDENTIFIED BY %s",
                    (host, self._password),
                )
                cursor.execute("ALTER USER 'root'@%s IDENTIFIED BY %s", (host, self._password))
                cursor.execute(
                    "GRANT ALL PRIVILEGES ON *.* TO 'root'@%s WITH GRANT OPTION", (host,)
                )
            cursor.execute(
                f"CREATE DATABASE IF NOT EXISTS {_quote_identifier(self._database)} "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )

    def _require_started(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise MariaDBError("mariadbd has not been started")
        return self._proc

    def _require_running(self) -> subprocess.Popen[bytes]:
        proc = self._require_started()
        if proc.poll() is not None:
            raise MariaDBError(f"mariadbd is not running (exit code {proc.returncode})")
        return proc

    def _reap_after_failure(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            proc.wait()
        self._forget_process()

    def _forget_process(self) -> None:
        self._proc = None
        self._paused = False
        _live_servers.discard(self)
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None


# --- command line -----------------------------------------------------------------


def _serve(*, port: int | None, base_dir: Path | None, database: str) -> int:
    stop_requested = threading.Event()
    signalled: list[int] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        signalled.append(signum)
        stop_requested.set()

    # Installed before start() so a signal during start-up still ends in a clean stop.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    own_dir = base_dir is None
    directory = Path(tempfile.mkdtemp(prefix="mariadb-")) if base_dir is None else base_dir
    server = MariaDBServer(base_dir=directory, port=port, database=database)
    try:
        server.start()
        if stop_requested.is_set():
            server.stop()
            return 0
        print(json.dumps(server.info()), flush=True)

        def watch() -> None:
            # Wake the main thread if mariadbd dies on its own.
            with contextlib.suppress(MariaDBError):
                server.wait()
            stop_requested.set()

        threading.Thread(target=watch, name="mariadbd-watch", daemon=True).start()
        stop_requested.wait()
        if not signalled:
            print(
                f"mariadbd exited unexpectedly; log tail ({server.log_path}):\n"
                f"{_tail(server.log_path)}",
                file=sys.stderr,
            )
            server.kill()  # only reaps and forgets it
            return 1
        server.stop()
        return 0
    except MariaDBError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        server.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if own_dir:
            shutil.rmtree(directory, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.mariadb",
        description="Check for, install, or run a throwaway MariaDB server.",
    )
    parser.add_argument(
        "--ensure",
        action="store_true",
        help=f"check mariadbd is installed; as root, apt-get install {DEBIAN_PACKAGE} if not",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="start a server, print its connection details as JSON, run until SIGINT/SIGTERM",
    )
    parser.add_argument("--port", type=int, default=None, help="TCP port (default: a free one)")
    parser.add_argument(
        "--base-dir",
        type=Path,
        default=None,
        help="directory for data, socket and log; kept afterwards (default: a temporary one)",
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="database to create")
    args = parser.parse_args(argv)
    if not (args.ensure or args.serve):
        parser.error("nothing to do: pass --ensure and/or --serve")

    if args.ensure:
        try:
            ensure_mariadb_installed()
        except MariaDBMissingError as exc:
            print(exc, file=sys.stderr)
            return 1
        except subprocess.CalledProcessError as exc:
            print(
                f"installing {DEBIAN_PACKAGE} failed: {exc}; "
                f"install the Debian package {DEBIAN_PACKAGE!r} by hand",
                file=sys.stderr,
            )
            return 1
        print(f"mariadbd: {find_mariadbd()}", file=sys.stderr)

    if args.serve:
        return _serve(port=args.port, base_dir=args.base_dir, database=args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
