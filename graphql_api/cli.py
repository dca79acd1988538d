"""The `graphql-api` command: serve, healthcheck, schema, export-schema, export-openapi,
db, dynamodb, migrate, outbox, verify."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from graphql_api.contract import commands as schema_commands
from graphql_api.errors import ConfigError, GraphqlApiError
from graphql_api.settings import MULTIPROCESS_DIR_VARIABLE, Settings, load_settings
from graphql_api.sync import commands as sync_commands

log = logging.getLogger("graphql_api.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphql-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=None, help="worker processes (GRAPHQL_API_WORKERS, 1)"
    )

    check = commands.add_parser("healthcheck", help="exit 0 when /healthz answers 200")
    check.add_argument("--url", default="http://127.0.0.1:8000/healthz")
    check.add_argument("--timeout", type=float, default=3.0, help="seconds")

    schema_commands.add_commands(commands)
    # The older spelling of `schema export`, which scripts and the Makefile use.
    export = commands.add_parser("export-schema", help="print the schema as SDL")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")

    openapi = commands.add_parser(
        "export-openapi", help="print the REST routes' OpenAPI document (default settings)"
    )
    openapi.add_argument("--output", type=Path, help="write to this file instead of stdout")

    db = commands.add_parser("db", help="MySQL schema and demo rows").add_subparsers(
        dest="db_command", required=True
    )
    init = db.add_parser("init", help="apply sql/ to the configured MySQL (idempotent)")
    init.add_argument("--seed", action="store_true", help="also load the demo rows")
    db.add_parser("seed-sql", help="print the demo rows as SQL (sql/020_demo_seed.sql)")

    dynamodb = commands.add_parser("dynamodb", help="the DynamoDB table").add_subparsers(
        dest="dynamodb_command", required=True
    )
    dynamodb.add_parser("create-table", help="create DYNAMODB_TABLE (idempotent)")
    dynamodb.add_parser("load-demo", help="write the demo rows into DYNAMODB_TABLE")
    sync_commands.add_commands(commands)
    return parser


def _settings() -> Settings:
    try:
        return load_settings(os.environ)
    except ConfigError as error:
        sys.exit(f"graphql-api: configuration error: {error}")


def _check_startup(settings: Settings) -> None:
    """What create_app would refuse, refused here once, before workers fork."""
    if settings.auth is None:
        return
    from graphql_api.web.auth import Authenticator

    try:
        Authenticator(settings.auth)
    except ConfigError as error:
        sys.exit(f"graphql-api: configuration error: {error}")


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from graphql_api.web.log_format import logging_config

    settings = _settings()  # fail here, with the variable's name, before forking workers
    _check_startup(settings)
    workers = args.workers or settings.serving.workers
    metrics_dir = None
    if workers > 1 and settings.serving.metrics_dir is None:
        # Workers are separate processes; they share their metrics through
        # files here so /metrics on any of them reports the whole server. It goes
        # into the environment, not into Settings: the workers build their own
        # Settings from it (app.create_app_from_env), and prometheus_client in
        # each worker reads the variable itself to write its samples there.
        metrics_dir = tempfile.mkdtemp(prefix="graphql-api-metrics-")
        os.environ[MULTIPROCESS_DIR_VARIABLE] = metrics_dir
    try:
        uvicorn.run(
            "graphql_api.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=workers,
            log_level=settings.log_level.lower(),
            log_config=logging_config(settings.log_level, settings.log_format),
            access_log=False,
            proxy_headers=True,
            # In-flight requests get this long after SIGTERM before they are cut.
            timeout_graceful_shutdown=settings.serving.shutdown_timeout_s,
            # A websocket frame larger than a client message may be is refused (1009).
            ws_max_size=settings.feed.max_message_bytes,
            # Subscription messages are a few hundred bytes; permessage-deflate cost
            # 42 KB of zlib state per connection and doubled the time one event
            # took to reach 1,000 subscribers (tests/test_feed_scale.py).
            ws_per_message_deflate=False,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _healthcheck(args: argparse.Namespace) -> None:
    """For the container's HEALTHCHECK: the slim image has no curl."""
    try:
        with urllib.request.urlopen(args.url, timeout=args.timeout) as response:  # noqa: S310
            healthy = response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        healthy = False
    if not healthy:
        sys.exit(f"graphql-api: {args.url} is not healthy")


def _export_schema(args: argparse.Namespace) -> None:
    schema_commands.export_schema(args.output)


def _export_openapi(args: argparse.Namespace) -> None:
    from graphql_api.web.rest.openapi import default_openapi_text

    text = default_openapi_text()
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)


def _db(args: argparse.Namespace) -> None:
    from graphql_api.admin.sqlfiles import render_demo_seed
    from graphql_api.stores.demo import demo_data

    if args.db_command == "seed-sql":
        sys.stdout.write(render_demo_seed(demo_data()))
        return
    settings = _settings()
    if settings.mysql is None:
        sys.exit("graphql-api: db init needs MySQL: set RDS_ENDPOINT and RDS_USERNAME")
    from graphql_api.admin.db_init import apply_sql_files

    applied = asyncio.run(apply_sql_files(settings.mysql, with_seed=args.seed))
    for path, count in applied:
        print(f"applied {path.name}: {count} statements")


def _dynamodb(args: argparse.Namespace) -> None:
    from graphql_api.admin import dynamodb_table
    from graphql_api.resources import dynamodb_client
    from graphql_api.settings import dynamodb_settings
    from graphql_api.stores.demo import demo_data

    try:
        settings = dynamodb_settings(os.environ)
    except ConfigError as error:
        sys.exit(f"graphql-api: configuration error: {error}")

    async def run() -> str:
        async with dynamodb_client(settings) as client:
            if args.dynamodb_command == "create-table":
                created = await dynamodb_table.create_table(client, table=settings.table)
                return f"table {settings.table}: {'created' if created else 'already exists'}"
            rows = dynamodb_table.demo_items(demo_data())
            count = await dynamodb_table.put_items(client, table=settings.table, rows=rows)
            return f"table {settings.table}: wrote {count} demo items"

    try:
        print(asyncio.run(run()))
    except GraphqlApiError as error:
        sys.exit(f"graphql-api: {error}")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    commands = {
        "serve": _serve,
        "healthcheck": _healthcheck,
        "schema": schema_commands.run_command,
        "documents": schema_commands.run_documents_command,
        "export-schema": _export_schema,
        "export-openapi": _export_openapi,
        "db": _db,
        "dynamodb": _dynamodb,
        "migrate": sync_commands.run_command,
        "outbox": sync_commands.run_command,
        "verify": sync_commands.run_command,
    }
    commands[args.command](args)
