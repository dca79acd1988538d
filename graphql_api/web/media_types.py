"""The two JSON media types GraphQL over HTTP answers in, and what each says.

`application/json` is what every client of this API has read so far: every
GraphQL answer is 200, a request the server could not even run included
(`{"data": null, "errors": [...]}`). The specification's own type,
`application/graphql-response+json`, lets the status tell them apart: a
request error (the document does not parse or validate, a variable's value
does not fit its type, no such operation, over a limit, a role missing) is 4xx
with no `data` at all; an operation that ran is 200, field errors included.
A client asks for it in `Accept`; one that asks for nothing, or for JSON,
gets `application/json` as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLError

JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

# Codes of errors raised before execution (schema/error_shaping.py,
# schema/limits.py, schema/access.py). Without a `path` they are about the
# request, not a field; a field's BAD_USER_INPUT has one.
_REQUEST_ERROR_CODES = frozenset(
    {"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "QUERY_LIMIT_EXCEEDED", "FORBIDDEN"}
)


def response_media_type(accept: str | None) -> str:
    """The media type to answer in for this Accept header.

    The highest quality of the two wins, application/graphql-response+json on
    a tie (the specification's preference). Wildcards count for
    application/json only: a client that names the new type has read the
    specification; `*/*` is every legacy client.
    """
    if not accept or GRAPHQL_RESPONSE_JSON not in accept.lower():
        return JSON
    quality = {GRAPHQL_RESPONSE_JSON: 0.0, JSON: 0.0}
    wildcard = 0.0
    for entry in accept.lower().split(","):
        media_type, _, parameters = entry.partition(";")
        media_type = media_type.strip()
        q = _quality(parameters)
        if media_type in quality:
            quality[media_type] = max(quality[media_type], q)
        elif media_type in ("application/*", "*/*"):
            wildcard = max(wildcard, q)
    json_quality = quality[JSON] or wildcard
    best = quality[GRAPHQL_RESPONSE_JSON]
    return GRAPHQL_RESPONSE_JSON if best > 0 and best >= json_quality else JSON


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip() == "q":
            try:
                return min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def request_error_status(data: object, errors: Sequence[GraphQLError] | None) -> int | None:
    """The 4xx status of an answer that is a request error, or None when the
    operation ran (its data is there, or null by a field's error, or it was
    stopped by the timeout, which is not the client's mistake)."""
    if data is not None or not errors:
        return None
    codes = set()
    for error in errors:
        code = (error.extensions or {}).get("code")
        if error.path is not None or code not in _REQUEST_ERROR_CODES:
            return None
        codes.add(code)
    return 403 if codes == {"FORBIDDEN"} else 400
