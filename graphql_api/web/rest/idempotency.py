"""`Idempotency-Key` on POST /assignments: a retry gets the first answer, and writes nothing.

Stripe's convention: the same key with the same body within 24 hours answers
what the first request answered (marked `Idempotent-Replayed: true`); the same
key with another body is refused (422), and while the first request still runs
a second one with its key is told to come back (409, Retry-After). Keys are
scoped to the caller (the token's subject): one client can never replay
another's answers. An answer of 5xx is not kept: the write did not happen, the
client may retry with the same key. Should the store fail after the write but
before the answer is kept, the claim stays unanswered until its lease ends
(stores/idempotency.py) and a retry then runs again: an assignment to the rep
the customer already has writes nothing, and a create finds the customer and
assigns it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from graphql_api.stores.idempotency import HeldKey, IdempotencyKeys, StoredAnswer
from graphql_api.web.rest.problems import Problem, invalid, problem_response

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Visible ASCII, at most MAX_KEY_LENGTH: a key is stored hashed, but a bound
# keeps a client from making the server hash megabytes of header.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
# The headers of an answer a replay repeats.
_KEPT_HEADERS = ("content-type", "etag", "location")


def key_of(request: Request) -> str | None:
    given = request.headers.getlist(HEADER)
    if not given:
        return None
    if len(given) > 1 or not _KEY.fullmatch(given[0]):
        raise invalid(
            HEADER, f"{HEADER} must be one value of 1 to {MAX_KEY_LENGTH} visible ASCII characters"
        )
    return given[0]


def key_hash(subject: str | None, key: str) -> bytes:
    """The stored key: the caller and their key, so one caller's key is not another's."""
    return hashlib.sha256(json.dumps([subject or "", key]).encode()).digest()


def fingerprint(method: str, path: str, body: Any) -> bytes:
    """Which request a key was first used for: the same route and the same JSON value."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()


Answer = Callable[[], Awaitable[Response]]


async def answer_once(
    keys: IdempotencyKeys | None, *, hashed_key: bytes, request_fingerprint: bytes, answer: Answer
) -> Response:
    """`answer()` for the key's first request; what it answered for a retry."""
    if keys is None:
        # No store takes writes: the write answers STORE_UNAVAILABLE, nothing to keep.
        return await answer()
    held = await keys.claim(key_hash=hashed_key, fingerprint=request_fingerprint)
    if held is not None:
        return _replayed(held, request_fingerprint)
    try:
        response = await _as_response(answer)
    except BaseException:
        await keys.release(key_hash=hashed_key)
        raise
    if response.status_code >= 500:
        await keys.release(key_hash=hashed_key)
    else:
        await keys.finish(key_hash=hashed_key, answer=_stored(response))
    return response


async def _as_response(answer: Answer) -> Response:
    try:
        return await answer()
    except Problem as problem:
        return problem_response(problem)


def _stored(response: Response) -> StoredAnswer:
    headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    return StoredAnswer(response.status_code, json.dumps(headers), bytes(response.body))


def _replayed(held: HeldKey, request_fingerprint: bytes) -> Response:
    if held.fingerprint != request_fingerprint:
        raise Problem(
            "IDEMPOTENCY_KEY_REUSED",
            f"This {HEADER} was used with another request; use a new key for this one.",
            members={"field": HEADER},
        )
    if held.answer is None:
        raise Problem(
            "IDEMPOTENCY_KEY_IN_USE",
            f"A request with this {HEADER} is still running; try again in a second.",
            headers={"Retry-After": "1"},
        )
    headers = {**json.loads(held.answer.headers), REPLAYED: "true"}
    return Response(held.answer.body, status_code=held.answer.status, headers=headers)
