"""One peer's app, driven in this process without an HTTP server: bench/instructions.py
runs this under valgrind to count the machine instructions of its requests.

    python -m bench.asgi_driver OPERATION PEER PHASE COUNT [SCALE]

Sends the first WARM requests of the operation's PHASE plan (warmup or measured),
then COUNT more, each straight to the app's ASGI callable, and insists on a 200.
The app is built from the environment, as `graphql-api serve` builds it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import MutableMapping, Sequence
from typing import Any

from starlette.applications import Starlette

from bench.cases import case_plans
from bench.credentials import bearer
from bench.data import SCALES
from bench.operations import HttpRequest, Peer

WARM = 5
# Every message the app sends back: http.response.start, then the body's parts.
_Sent = list[MutableMapping[str, Any]]


def _app(peer: Peer) -> Starlette:
    from graphql_api.settings import load_settings

    settings = load_settings(os.environ)
    if peer is Peer.API:
        from graphql_api.app import create_app

        return create_app(settings)
    from bench.peers.rest import create_app as create_rest_app

    return create_rest_app(settings)


async def _send(app: Starlette, request: HttpRequest, authorization: bytes) -> None:
    path, _, query = request.path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", authorization),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    body = (request.body or "").encode()
    sent: _Sent = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    if sent[0].get("status") != 200:
        raise SystemExit(f"{request.method} {request.path}: {sent[0].get('status')} {sent[1:]}")


async def _drive(operation: str, peer: Peer, phase: str, count: int, scale: str) -> None:
    plans = case_plans(operation, peer, SCALES[scale])
    plan = plans.warmup if phase == "warmup" else plans.measured
    # The secret the bench gave the app (a token from this process's own would not do).
    authorization = bearer(os.environ["GRAPHQL_API_JWT_SECRET"]).encode()
    app = _app(peer)
    async with app.router.lifespan_context(app):
        for number in range(WARM + count):
            await _send(app, plan[number % len(plan)], authorization)


def main(argv: Sequence[str]) -> None:
    operation, peer, phase, count, *scale = argv
    asyncio.run(_drive(operation, Peer(peer), phase, int(count), scale[0] if scale else "default"))


if __name__ == "__main__":
    main(sys.argv[1:])
