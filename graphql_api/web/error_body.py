"""The body of an error the HTTP layer answers itself, in the shape of a GraphQL error.

A refused token, an oversized body or batch, malformed JSON, an unhandled exception:
the client reads `{"data": null, "errors": [...]}` as from any other error, with a
stable `extensions.code` and the request id. In application/graphql-response+json
(web/media_types.py) a request that never ran has no `data` member at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import Send


def error_body(
    message: str, extensions: Mapping[str, object], *, request_id: str, with_data: bool = True
) -> bytes:
    error = {"message": message, "extensions": {**extensions, "requestId": request_id}}
    body = {"data": None, "errors": [error]} if with_data else {"errors": [error]}
    return json.dumps(body).encode()


async def send_json(send: Send, status: int, body: bytes, *, close: bool = False) -> None:
    """A complete JSON response, for middleware that answers before the app does;
    `close` ends the connection after it (the server stops reading the request)."""
    length = str(len(body)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", length)]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
