"""A throwaway MariaDB server for tests, benchmarks and ``make dev``.

Each :class:`MariaDBServer` owns a private data directory, socket, pid file and log
under ``base_dir`` and listens on 127.0.0.1 only, so many can run side by side
without docker and without touching a system-wide MariaDB.

Command line::

    python -m devstack.mariadb --ensure
        exit 0 when mariadbd is installed; as root, install Debian's
        ``mariadb-server`` package first when it is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

# types-PyMySQL supplies stubs when installed; the ignore keeps mypy quiet when it is
# not, and "unused-ignore" keeps it quiet when it is.
import pymysql  # type: ignore[import-untyped, unused-ignore]
import pymysql.err  # type: ignore[import-untyped, unused-ignore]

from devstack.ports import free_port
from devstack.process import ServerProcess, ServerProcessError, log_tail

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
# MySQL error codes meaning "the server answered but refused these credentials".
_ACCESS_DENIED: Final = frozenset({1045, 1698})
# Root accounts that may log in; mariadb-install-db also creates root@<hostname>,
# which --skip-name-resolve ignores with a warning at every start, so it is dropped.
_ROOT_HOSTS: Final = ("localhost", "127.0.0.1", "::1")


class MariaDBError(ServerProcessError):
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


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class MariaDBServer(ServerProcess):
    """A private mariadbd on 127.0.0.1 with its data under ``base_dir``.

    ``start()`` initialises the data directory on first use, starts mariadbd, waits
    until it accepts a login, sets a random root password and creates ``database``.
    The data directory is kept across ``stop()``/``kill()``, so ``start()`` again (on
    the same port) finds the data that was there. The password is stored in
    ``base_dir/credentials.json`` so a new instance on the same ``base_dir`` can log in.
    """

    name = "mariadbd"
    error = MariaDBError
    startup_error = MariaDBStartupError
    host: Final = "127.0.0.1"
    user: Final = "root"

    def __init__(
        self,
        *,
        base_dir: Path,
        port: int | None = None,
        database: str = DEFAULT_DATABASE,
        startup_timeout_s: float = 60.0,
        shutdown_timeout_s: float = 60.0,
    ) -> None:
        self._base_dir = Path(base_dir).resolve()
        self._log_file = self._base_dir / "mariadbd.log"
        super().__init__(
            log_path=self._log_file,
            startup_timeout_s=startup_timeout_s,
            shutdown_timeout_s=shutdown_timeout_s,
        )
        # An auto-picked port can be lost to another process before mariadbd binds
        # it; only then may start() move to another port.
        self._port_was_picked = port is None
        self._port = free_port() if port is None else port
        self._database = database
        self._socket_dir: Path | None = None
        self._password = self._load_password() or secrets.token_urlsafe(24)
        self._mariadbd = ""
        # Set by start(): a fresh data dir has an empty root password until bootstrapped.
        self._fresh = False

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
    def data_dir(self) -> Path:
        return self._base_dir / "data"

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

    def start(self) -> None:
        """Start mariadbd and return once it accepts logins and ``database`` exists."""
        if self.running:
            raise MariaDBError(f"mariadbd is already running (pid {self.pid})")
        self._mariadbd, install_db = _find_binaries()
        self._base_dir.mkdir(parents=True, exist_ok=True)
        (self._base_dir / "tmp").mkdir(exist_ok=True)
        if not self._credentials_path.exists():
            # A data dir without credentials is from a start that never finished
            # bootstrapping; its password state is unknown, so start afresh.
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self._fresh = not self.data_dir.exists()
        if self._fresh:
            self._install_db(install_db)
        # Persist the password before setting it so a crash in between cannot
        # leave a server whose password nobody knows (readiness tries both).
        self._save_password()

        attempts = 3 if self._port_was_picked else 1
        for attempt in range(attempts):
            self.launch()
            try:
                connection = self.wait_for(self._login)
            except MariaDBStartupError:
                lost_port = "already in use" in self.log_tail(lines=10_000).lower()
                self.kill()
                if lost_port and attempt + 1 < attempts:
                    self._port = free_port()
                    continue
                raise
            except BaseException:
                self.kill()
                raise
            try:
                with connection:
                    self._bootstrap(connection)
            except BaseException:
                self.kill()
                raise
            # Only a port that has served once is pinned: restarts must reuse it.
            self._port_was_picked = False
            return

    def command(self) -> list[str]:
        return self._server_command(self._mariadbd)

    def connect(self) -> Connection[Cursor]:
        """A new autocommit pymysql connection to ``database`` over TCP."""
        return self._connect(self._password, database=self._database)

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
        with self._log_file.open("ab") as log:
            log.write(f"--- {' '.join(command)}\n".encode())
            log.flush()
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=False
            )
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise MariaDBStartupError(
                f"mariadb-install-db failed with exit code {result.returncode}; "
                f"log tail ({self._log_file}):\n{log_tail(self._log_file)}"
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

    def _login(self) -> Connection[Cursor] | None:
        """A root login, or None while mariadbd does not listen yet.

        A fresh data dir has an empty root password until _bootstrap sets ours.
        Both are always tried, in case an earlier bootstrap died half-way; the
        likely one goes first so the server does not log a failed login.
        """
        passwords = ["", self._password] if self._fresh else [self._password, ""]
        denied: list[Exception] = []
        for password in passwords:
            try:
                return self._connect(password, timeout=2.0)
            except pymysql.err.OperationalError as exc:
                if not (exc.args and exc.args[0] in _ACCESS_DENIED):
                    return None  # not listening yet; no point trying another password
                denied.append(exc)
        raise MariaDBStartupError(
            f"mariadbd on port {self._port} refused root with the known "
            f"passwords: {denied[-1]}; is another server on that port?"
        )

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

    def _forget_process(self) -> None:
        super()._forget_process()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.mariadb",
        description="Check for (and as root install) the MariaDB server the tests start.",
    )
    parser.add_argument(
        "--ensure",
        action="store_true",
        required=True,
        help=f"check mariadbd is installed; as root, apt-get install {DEBIAN_PACKAGE} if not",
    )
    parser.parse_args(argv)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
