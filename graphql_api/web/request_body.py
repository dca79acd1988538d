"""A POST body's shape, checked before strawberry reads it.

strawberry takes any JSON: a body that is a string, a number or null, or a
batch holding one, reached code that expected an object and answered 500
INTERNAL for the client's mistake. Here every malformed body is a 400 that says
what is wrong (GraphQL over HTTP: a JSON object with `query`, and optionally
`variables`, `operationName`, `extensions` and `documentId`; a batch is a list of them).
"""

from __future__ import annotations

import json
import re
from typing import Any

from cross_web import HTTPException

# (member, the JSON types it may hold, how the message names them)
_MEMBERS: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("query", (str,), "a string"),
    ("variables", (dict, type(None)), "an object or null"),
    ("operationName", (str, type(None)), "a string or null"),
    ("extensions", (dict, type(None)), "an object or null"),
    # A trusted document's id instead of `query` (web/trusted_documents.py).
    ("documentId", (str,), "a string"),
)


# A JSON escape of a UTF-16 surrogate: the only way a body that is valid UTF-8
# can carry one. Paired, json.loads joins them into one character; alone, the
# string is not Unicode text, and no store can encode it.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def may_hold_lone_surrogates(body: bytes) -> bool:
    """Whether the body escapes a surrogate at all: one scan, no decoding."""
    return _SURROGATE_ESCAPE.search(body) is not None


def decode_json(body: str | bytes, what: str) -> Any:
    """JSON text, or a 400 naming `what` was not JSON (invalid UTF-8 and nesting
    deeper than the decoder's recursion limit included)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise HTTPException(400, f"{what} is not valid JSON.") from None


def check_body(data: Any) -> None:
    """Raises a 400 naming the first member that is not what GraphQL over HTTP says,
    or the first string that holds a lone surrogate."""
    if isinstance(data, list):
        if not data:
            raise HTTPException(400, "A batch must hold at least one operation.")
        for position, operation in enumerate(data, start=1):
            _check_operation(operation, f"Operation {position} of the batch")
        return
    _check_operation(data, "The request body")


def check_text(data: Any) -> None:
    """Raises a 400 naming the first string, or key, that holds a lone surrogate.

    A loop with a stack, not recursion: the decoder accepts nesting almost as
    deep as the interpreter's recursion limit, and this runs deeper in the stack.
    """
    pending: list[tuple[Any, str]] = [(data, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                where = f"`{path}`" if path else "The request body"
                message = f"{where} holds a lone UTF-16 surrogate: not Unicode text."
                raise HTTPException(400, message)
        elif isinstance(value, dict):
            for key, inner in reversed(value.items()):
                inner_path = f"{path}.{key}" if path else str(key)
                pending.append((inner, inner_path))
                pending.append((key, inner_path))
        elif isinstance(value, list):
            for position in reversed(range(len(value))):
                pending.append((value[position], f"{path}[{position}]"))


def _check_operation(operation: Any, where: str) -> None:
    if not isinstance(operation, dict):
        raise HTTPException(400, f"{where} must be a JSON object.")
    for member, types, expected in _MEMBERS:
        if member in operation and not isinstance(operation[member], types):
            raise HTTPException(400, f"{where}: `{member}` must be {expected}.")
