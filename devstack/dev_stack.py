"""`make dev`: the whole thing on one machine, as the tests run it.

Starts a throwaway MariaDB and moto (a DynamoDB-protocol server), creates the
schema and the table, seeds the demo rows into MySQL and copies them to
DynamoDB with `graphql-api migrate mysql-to-dynamodb`, then serves the API
with the full chain (MySQL, then DynamoDB) and prints what it set up.

While it runs it reads commands on standard input, to watch the fallback:
    mysql stop | mysql start | mysql stall | mysql resume | quit
Ctrl-C (or `quit`, or the end of input) stops everything and leaves nothing running.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from devstack.app_server import ApiProcess
from devstack.mariadb import MariaDBServer, ensure_mariadb_installed
from devstack.moto_server import MotoServer

TABLE = "salepoint-dev"


def _env(mariadb: MariaDBServer, moto: MotoServer) -> dict[str, str]:
    return {
        "RDS_ENDPOINT": mariadb.host,
        "RDS_PORT": str(mariadb.port),
        "RDS_USERNAME": mariadb.user,
        "RDS_PASSWORD": mariadb.password,
        "RDS_DATABASE": mariadb.database,
        "DYNAMODB_TABLE": TABLE,
        "AWS_REGION": "us-east-1",
        "DYNAMODB_ENDPOINT_URL": moto.endpoint_url,
        # moto takes any key; these keep the AWS credential chain from looking elsewhere.
        "AWS_ACCESS_KEY_ID": "dev",
        "AWS_SECRET_ACCESS_KEY": "dev",
        "GRAPHQL_API_STORES": "mysql,dynamodb",
    }


def _run(args: Sequence[str], env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "graphql_api", *args],
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _control(mariadb: MariaDBServer, stop: threading.Event) -> None:
    actions = {
        "mysql stop": mariadb.stop,
        "mysql start": mariadb.start,
        "mysql stall": mariadb.pause,
        "mysql resume": mariadb.resume,
    }
    for line in sys.stdin:
        command = line.strip().lower()
        if command == "quit":
            break
        action = actions.get(command)
        if action is None:
            print(f"commands: {', '.join(actions)}, quit", flush=True)
            continue
        action()
        print(f"done: {command}", flush=True)
    stop.set()


def _print_ready(
    api: ApiProcess, mariadb: MariaDBServer, moto: MotoServer, env: dict[str, str]
) -> None:
    login = f"-h {mariadb.host} -P {mariadb.port} -u {mariadb.user} -p{mariadb.password}"
    print(f"\nGraphQL and GraphiQL: {api.base_url}/graphql", flush=True)
    print(f"MariaDB: mysql {login} {mariadb.database}", flush=True)
    print(f"DynamoDB (moto): {moto.endpoint_url} table {TABLE}", flush=True)
    for name, value in sorted(env.items()):
        shown = "(see MariaDB above)" if name == "RDS_PASSWORD" else value
        print(f"  {name}={shown}", flush=True)
    print(
        "ready: type 'mysql stop' to watch reads fall back to DynamoDB, Ctrl-C to end",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="the API's port")
    args = parser.parse_args(argv)
    ensure_mariadb_installed()
    base = Path(tempfile.mkdtemp(prefix="graphql-api-dev-"))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    mariadb = MariaDBServer(base_dir=base / "mariadb")
    moto = MotoServer(log_path=base / "moto.log")
    try:
        mariadb.start()
        moto.start()
        env = _env(mariadb, moto)
        _run(["db", "init", "--seed"], env)
        _run(["dynamodb", "create-table"], env)
        _run(["migrate", "mysql-to-dynamodb", "--rejects", str(base / "rejects.jsonl")], env)
        # No log file: the API's log lines (the fallbacks among them) go to the terminal.
        with ApiProcess(env=env, log_path=None, port=args.port) as api:
            _print_ready(api, mariadb, moto, env)
            threading.Thread(target=_control, args=(mariadb, stop), daemon=True).start()
            stop.wait()
    finally:
        moto.stop()
        mariadb.stop()
        shutil.rmtree(base, ignore_errors=True)
    print("stopped: API, moto and MariaDB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
