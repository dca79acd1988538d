"""Liveness and readiness for load balancers and orchestrators.

GET /healthz answers from memory: the process runs and serves HTTP. Restarting
a server because its database is down would not bring the database back, so
liveness never touches a store.

GET /readyz pings every configured store at once, each within a short timeout,
and reports each one. It is 503 only when no store can answer reads, because
while any store answers, this instance still serves (from a fallback). The
stores are the chain's (resources.Resources.read_stores), pinged directly, not
through the chain's retries and breakers, so the answer is each store's now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graphql_api.errors import OverloadedError, StoreFailedError
from graphql_api.stores.protocol import StoreReader

log = logging.getLogger("graphql_api.web.health")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _ping(store: StoreReader, timeout_s: float) -> dict[str, object]:
    try:
        async with asyncio.timeout(timeout_s):
            await store.ping()
    except TimeoutError:
        return {"ready": False, "reason": "timeout"}
    except StoreFailedError as error:
        return {"ready": False, "reason": error.reason}
    except OverloadedError:
        # Every connection busy serving requests: the store answers, this instance
        # serves (and sheds what it cannot take). Reporting it unready would send
        # its traffic to the other replicas, which are busy too: a cascade.
        return {"ready": True, "busy": True}
    except Exception as error:
        # Not ready either way; logged by type, never by message (SQL, hosts).
        log.warning("readiness ping raised %s", type(error).__name__)
        return {"ready": False, "reason": "error"}
    return {"ready": True}


async def store_readiness(
    read_stores: Mapping[str, StoreReader],
    *,
    write_only_stores: Mapping[str, StoreReader] | None = None,
    timeout_s: float,
) -> dict[str, object]:
    """Every store pinged at once; ready while any store reads go to answers.

    A writer that reads never go to (beside a reader endpoint) is reported too,
    marked `writes_only`, but does not make the instance ready on its own.
    """
    stores = {**read_stores, **(write_only_stores or {})}
    names = list(stores)
    results = await asyncio.gather(*(_ping(stores[name], timeout_s) for name in names))
    by_store = dict(zip(names, results, strict=True))
    for name in write_only_stores or {}:
        by_store[name] = {**by_store[name], "writes_only": True}
    ready = any(by_store[name]["ready"] for name in read_stores)
    return {"status": "ready" if ready else "unavailable", "stores": by_store}


async def readyz(request: Request) -> Response:
    resources = request.app.state.resources
    settings = request.app.state.settings
    body = await store_readiness(
        resources.read_stores,
        write_only_stores=resources.write_only_stores,
        timeout_s=settings.serving.ready_timeout_s,
    )
    return JSONResponse(body, status_code=200 if body["status"] == "ready" else 503)
