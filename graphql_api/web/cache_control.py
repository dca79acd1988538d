"""`Cache-Control: no-store` on every API answer (GraphQL and the REST routes).

An answer holds one caller's view of customers, rights included: no shared
cache (a proxy, a CDN) and no browser cache may keep it. A response that says
otherwise itself (GraphiQL's page at /graphql) keeps its own. Applied by
RequestObservation, which already sets a header on every response (a layer of
its own would cost each request more than the header does).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders


def not_stored(headers: MutableHeaders) -> None:
    headers.setdefault("Cache-Control", "no-store")
