"""Errors of the REST routes as RFC 9457 problem details (application/problem+json).

Each carries the code a GraphQL client would read in `extensions.code` or a
UserError's `code`, so both kinds of client handle one list of codes. A problem
never holds a stack trace, SQL or a driver's message: its detail is the message
the GraphQL layer already shaped for clients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from http import HTTPStatus

from starlette.responses import Response

from graphql_api.web.json_body import encode_json
from graphql_api.web.request_log import current_request

MEDIA_TYPE = "application/problem+json"

# code -> HTTP status, for the codes a route answers.
STATUS_OF_CODE: dict[str, int] = {
    "BAD_REQUEST": 400,
    "VALIDATION": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "VERSION_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "IDEMPOTENCY_KEY_IN_USE": 409,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "INTERNAL": 500,
    "STORE_UNAVAILABLE": 503,
    "OVERLOADED": 503,
    "TIMEOUT": 503,
}


def problem_type(code: str) -> str:
    """The problem's `type`: a URN per code, stable for clients to switch on."""
    return "urn:graphql-api:problem:" + code.lower().replace("_", "-")


@dataclass(eq=False)
class Problem(Exception):
    """A refusal a route answers: the code, what to tell the client, and extra members."""

    code: str
    detail: str
    status: int = 0
    # Extension members: `field` for VALIDATION, `currentVersion` for a conflict.
    members: dict[str, object] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def http_status(self) -> int:
        return self.status or STATUS_OF_CODE[self.code]


def invalid(field_name: str, detail: str) -> Problem:
    """400 VALIDATION naming the request's field (body member, query parameter or header)."""
    return Problem("VALIDATION", detail, members={"field": field_name})


def unavailable(code: str, detail: str, *, retry_after_s: float) -> Problem:
    retry = str(max(1, math.ceil(retry_after_s)))
    return Problem(code, detail, headers={"Retry-After": retry})


def problem_body(problem: Problem) -> dict[str, object]:
    """The JSON object; the code is noted on the request's record (log, metrics)."""
    record = current_request()
    request_id = "unknown"
    if record is not None:
        record.error_codes.append(problem.code)
        request_id = record.request_id
    status = problem.http_status
    return {
        "type": problem_type(problem.code),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": problem.detail,
        "code": problem.code,
        **problem.members,
        "requestId": request_id,
    }


def problem_response(problem: Problem) -> Response:
    return Response(
        encode_json(problem_body(problem)),
        status_code=problem.http_status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )
