"""Runs a peer app the way `graphql-api serve` runs the API: uvicorn, one worker."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Sequence

import uvicorn
from starlette.applications import Starlette

from graphql_api.settings import Settings, load_settings


def serve(name: str, create_app: Callable[[Settings], Starlette], argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m bench.peers.{name}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    settings = load_settings(os.environ)
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s %(message)s")
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        workers=1,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )
