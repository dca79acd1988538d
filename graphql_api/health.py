"""Liveness and readiness for load balancers and orchestrators.

GET /healthz answers from memory: the process runs and serves HTTP. Restarting
a server because its database is down would not bring the database back, so
liveness never touches a store.

GET /readyz pings every configured store at once, each within a short timeout,
and reports each one. It is 503 only when no store can answer reads, because
while any store answers, this instance still serves (from a fallback).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graphql_api.errors import StoreFailedError
from graphql_api.stores.protocol import Store

log = logging.getLogger("graphql_api.health")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _ping(store: Store, timeout_s: float) -> dict[str, object]:
    try:
        async with asyncio.timeout(timeout_s):
            await store.ping()
    except TimeoutError:
        return {"ready": False, "reason": "timeout"}
    except StoreFailedError as error:
        return {"ready": False, "reason": error.reason}
    except Exception as error:
        # Not ready either way; logged by type, never by message (SQL, hosts).
        log.warning("readiness ping raised %s", type(error).__name__)
        return {"ready": False, "reason": "error"}
    return {"ready": True}


async def store_readiness(stores: Mapping[str, Store], *, timeout_s: float) -> dict[str, object]:
    names = list(stores)
    results = await asyncio.gather(*(_ping(stores[name], timeout_s) for name in names))
    by_store = dict(zip(names, results, strict=True))
    ready = any(result["ready"] for result in results)
    return {"status": "ready" if ready else "unavailable", "stores": by_store}


async def readyz(request: Request) -> Response:
    resources = request.app.state.resources
    settings = request.app.state.settings
    body = await store_readiness(resources.read_stores, timeout_s=settings.serving.ready_timeout_s)
    return JSONResponse(body, status_code=200 if body["status"] == "ready" else 503)
