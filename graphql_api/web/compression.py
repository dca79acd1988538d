"""Response bodies compressed when the client accepts it: zstd first, else gzip.

A body under `min_bytes` is sent as it is (compressing a few hundred bytes
costs more time than it saves on the wire), and so is one that is already
encoded (GraphiQL's pre-gzipped assets), of a type that does not compress, or
streamed in parts. zstd (Python 3.14's `compression.zstd`, backported) at level
3 is both faster and smaller than gzip at level 6 on our JSON; gzip is what
every client takes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from backports import zstd
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import Message, Send

_COMPRESSIBLE = ("application/json", "application/problem+json", "application/graphql", "text/")
_ZSTD_LEVEL = 3
_GZIP_LEVEL = 6


def _gzip(body: bytes) -> bytes:
    # wbits 31: the gzip container; zlib is a third faster than gzip.compress here.
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 31)
    return compressor.compress(body) + compressor.flush()


def _zstd(body: bytes) -> bytes:
    return zstd.compress(body, level=_ZSTD_LEVEL)


# In order of preference when a client accepts several.
_ENCODERS: dict[str, Callable[[bytes], bytes]] = {"zstd": _zstd, "gzip": _gzip}


def chosen_encoding(accept_encoding: str) -> str | None:
    """The encoding to answer in, from an Accept-Encoding header; None: as it is."""
    accepted: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, parameters = part.partition(";")
        quality = 1.0
        key, _, value = parameters.strip().partition("=")
        if key.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        accepted[name.strip()] = quality
    wildcard = accepted.get("*", 0.0)
    for encoding in _ENCODERS:
        if accepted.get(encoding, wildcard) > 0:
            return encoding
    return None


def _compressible(headers: MutableHeaders) -> bool:
    if "content-encoding" in headers:
        return False
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type.startswith(_COMPRESSIBLE) or media_type.endswith("+json")


class Compression:
    """Wraps a response's `send` to compress one-part bodies of `min_bytes` or more.

    Not a middleware of its own: a layer of the ASGI stack costs every request
    about 14,000 machine instructions even when it passes the request straight
    on (make bench-instructions), so RequestObservation, which already looks at
    every request's headers and wraps its `send`, asks `send_for`.
    """

    def __init__(self, *, min_bytes: int) -> None:
        self._min_bytes = min_bytes

    def send_for(self, headers: Headers, send: Send) -> Send:
        """`send` itself when the client accepts no encoding we offer."""
        accepted = headers.get("accept-encoding")
        encoding = chosen_encoding(accepted) if accepted else None
        if encoding is None:
            return send
        return _CompressingSend(send, encoding, self._min_bytes)


class _CompressingSend:
    """Holds the response's start until its first body part shows whether to compress."""

    __slots__ = ("_encoding", "_min_bytes", "_send", "_start")

    def __init__(self, send: Send, encoding: str, min_bytes: int) -> None:
        self._send = send
        self._encoding = encoding
        self._min_bytes = min_bytes
        self._start: Message | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        start = self._start
        if start is None:  # the start went out already: the rest as it comes
            await self._send(message)
            return
        self._start = None
        body: bytes = message.get("body", b"")
        headers = MutableHeaders(scope=start)
        if not message.get("more_body", False) and self._worth_it(headers, body):
            body = _ENCODERS[self._encoding](body)
            headers["Content-Encoding"] = self._encoding
            headers["Content-Length"] = str(len(body))
            headers.add_vary_header("Accept-Encoding")
            message = {**message, "body": body}
        await self._send(start)
        await self._send(message)

    def _worth_it(self, headers: MutableHeaders, body: bytes) -> bool:
        return len(body) >= self._min_bytes and _compressible(headers)
