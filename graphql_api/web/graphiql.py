"""GraphiQL served by this server: our own page and the bundle built from graphiql/.

Strawberry's built-in page loads its scripts from a public CDN, which is a blank
page without internet and a third-party script on an admin tool. This page loads
only same-origin files (built by `make graphiql` into graphiql/dist) and carries a
Content-Security-Policy that forbids every other origin.
"""

from __future__ import annotations

import html
import logging
import mimetypes
from collections.abc import Mapping
from pathlib import Path

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("graphql_api.web.graphiql")

ASSETS_ROUTE_NAME = "graphiql_assets"
ASSETS_PATH = "/graphql/assets"
_SCRIPT = "graphiql.js"
_STYLESHEET = "graphiql.css"

# Monaco (GraphiQL's editor) adds <style> elements at run time for its themes and
# decorations and sets no nonce on them, so styles need 'unsafe-inline'; GraphiQL's
# stylesheet embeds its fonts as data: URLs. Scripts and workers stay 'self' only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphiQL · graphql-api</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{stylesheet}">
<script type="module" src="{script}"></script>
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</div>
</body>
</html>
"""


# What names a GraphQL document in a GET: its text, or its hash (web/trusted_documents.py).
_DOCUMENT_PARAMETERS = ("query", "documentId", "extensions")


def wants_graphiql(request: Request) -> bool:
    """A browser opening the endpoint: a GET that names no document and accepts HTML."""
    return is_page_request(request.method, request.query_params, request.headers.get("accept", ""))


def is_page_request(method: str, query_params: Mapping[str, str], accept: str) -> bool:
    """strawberry's test for its own page, but a GET that names a document by
    hash (`?documentId=`, `?extensions=`) is an API request too."""
    return (
        method == "GET"
        and not any(name in query_params for name in _DOCUMENT_PARAMETERS)
        and ("text/html" in accept or "*/*" in accept)
    )


def graphiql_page(request: Request, directory: Path) -> Response:
    if not (directory / _SCRIPT).is_file():
        log.warning("GraphiQL is enabled but not built in %s; run `make graphiql`", directory)
        return PlainTextResponse(
            "GraphiQL is not built on this server: run `make graphiql`.", status_code=503
        )
    page = _PAGE.format(
        stylesheet=html.escape(request.url_for(ASSETS_ROUTE_NAME, path=_STYLESHEET).path),
        script=html.escape(request.url_for(ASSETS_ROUTE_NAME, path=_SCRIPT).path),
        endpoint=html.escape(request.url.path),
    )
    # The empty data: icon keeps the browser from asking for /favicon.ico.
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            # The page names the assets by fixed names: revalidate rather than cache stale.
            "Cache-Control": "no-cache",
        },
    )


class GraphiQLOrGraphQL:
    """In front of the GraphQL endpoint: browsers get the page, everything else the API."""

    def __init__(self, endpoint: ASGIApp, directory: Path) -> None:
        self._endpoint = endpoint
        self._directory = directory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            if wants_graphiql(request):
                await graphiql_page(request, self._directory)(scope, receive, send)
                return
        await self._endpoint(scope, receive, send)


class _Assets(StaticFiles):
    """The built bundle, gzipped copies (made by the build) to clients that accept them.

    Every response says not to sniff, to revalidate (the names are fixed), and that
    it varies with Accept-Encoding.
    """

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = None
        if "gzip" in Headers(scope=scope).get("accept-encoding", "") and not path.endswith(".gz"):
            try:
                response = await super().get_response(f"{path}.gz", scope)
            except HTTPException:
                response = None  # no compressed copy of this file: serve it as it is
            else:
                response.headers["Content-Encoding"] = "gzip"
                content_type = mimetypes.guess_type(path)[0]
                if content_type and response.status_code == 200:
                    response.headers["Content-Type"] = _with_charset(content_type)
        if response is None:
            response = await super().get_response(path, scope)
        response.headers["Vary"] = "Accept-Encoding"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response


def _with_charset(content_type: str) -> str:
    return f"{content_type}; charset=utf-8" if content_type.startswith("text/") else content_type


def with_graphiql(endpoint: ASGIApp, *, enabled: bool, directory: Path) -> ASGIApp:
    """The endpoint, fronted by the page when GraphiQL is enabled."""
    return GraphiQLOrGraphQL(endpoint, directory) if enabled else endpoint


def graphiql_routes(*, enabled: bool, directory: Path) -> list[BaseRoute]:
    """The asset route, or nothing when GraphiQL is off (the files are then 404s too)."""
    if not enabled:
        return []
    return [
        Mount(
            ASSETS_PATH,
            app=_Assets(directory=directory, check_dir=False),
            name=ASSETS_ROUTE_NAME,
        )
    ]
