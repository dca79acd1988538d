"""The REST routes' OpenAPI 3.1 document, built from the code that checks and answers.

Limits, patterns and enums come from where the routes take them (validation.py,
records.py, web/rest/inputs.py, idempotency.py), so the document cannot drift
from what the server does. `openapi.json` at the top of the repository is this
document for the default settings (`make openapi` writes it; the tests compare);
GET /openapi.json serves it for the server's own settings (its page size).
"""

from __future__ import annotations

import json
from typing import Any

from graphql_api.settings import load_settings
from graphql_api.web.rest import inputs
from graphql_api.web.rest.idempotency import HEADER as IDEMPOTENCY_HEADER
from graphql_api.web.rest.idempotency import MAX_KEY_LENGTH, REPLAYED
from graphql_api.web.rest.openapi_schemas import ID, Schema, component_schemas, ref
from graphql_api.web.rest.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE


def _header(description: str, schema: Schema | None = None) -> Schema:
    return {"description": description, "schema": schema or {"type": "string"}}


_ETAG = _header(
    "The customer's version, for If-Match.", {"type": "string", "pattern": '^"[0-9]+"$'}
)
_RETRY_AFTER = _header("Seconds to wait.", {"type": "string", "pattern": "^[0-9]+$"})

_PROBLEMS = {
    "400": "VALIDATION (names the `field`) or BAD_REQUEST",
    "401": "UNAUTHENTICATED",
    "403": "FORBIDDEN",
    "404": "NOT_FOUND",
    "409": "VERSION_CONFLICT, ALREADY_EXISTS or IDEMPOTENCY_KEY_IN_USE",
    "412": "VERSION_CONFLICT against If-Match",
    "415": "BAD_REQUEST: the body is not application/json",
    "422": "IDEMPOTENCY_KEY_REUSED",
    "503": "STORE_UNAVAILABLE, OVERLOADED or TIMEOUT",
}


def _problem(status: str) -> Schema:
    answer: Schema = {
        "description": _PROBLEMS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": ref("Problem")}},
    }
    if status == "503":
        answer["headers"] = {"Retry-After": {**_RETRY_AFTER, "required": True}}
    if status == "401":
        answer["headers"] = {"WWW-Authenticate": {**_header("Bearer"), "required": True}}
    return answer


def _answer(
    description: str,
    schema: str,
    headers: dict[str, Schema] | None = None,
    links: dict[str, Schema] | None = None,
) -> Schema:
    answer: Schema = {
        "description": description,
        "content": {"application/json": {"schema": ref(schema)}},
    }
    if headers:
        answer["headers"] = headers
    if links:
        answer["links"] = links
    return answer


def _responses(answers: dict[str, Schema], problems: tuple[str, ...]) -> dict[str, Schema]:
    always = ("400", "401", "403", "404", "503")
    codes = sorted(set(always) | set(problems))
    return {**answers, **{code: _problem(code) for code in codes}}


def _path_id(name: str, example: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": ID,
        "examples": {"demo": {"value": example}},
    }


def _json_body(schema: str, examples: dict[str, Any]) -> Schema:
    media = {"schema": ref(schema), "examples": {n: {"value": v} for n, v in examples.items()}}
    return {"required": True, "content": {"application/json": media}}


def _links(*operation_ids: str) -> dict[str, Schema]:
    """Where a customer answer leads: the routes of the customer it holds."""
    return {
        operation_id: {
            "operationId": operation_id,
            "parameters": {"customerId": "$response.body#/customer/id"},
        }
        for operation_id in operation_ids
    }


def _customer_paths() -> dict[str, Schema]:
    headers = {"ETag": {**_ETAG, "required": True}}
    description = "The customer, its rep and its newest history."
    read = _answer(description, "CustomerAnswer", headers, _links("updateCustomer"))
    written = _answer(description, "CustomerAnswer", headers, _links("getCustomer"))
    return {
        "get": {
            "operationId": "getCustomer",
            "summary": "A customer with its rep, contact details, address and history.",
            "parameters": [_path_id("customerId", "C-00001")],
            "responses": _responses({"200": read}, ()),
        },
        "put": {
            "operationId": "updateCustomer",
            "summary": "Change a customer's status, its rep (null: none), or both.",
            "description": "One change (one version): both or neither is written; the"
            " history records a status change and a move. If-Match (or expectedVersion)"
            " refuses a stale write.",
            "parameters": [
                _path_id("customerId", "C-00001"),
                {
                    "name": "If-Match",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "pattern": '^("[1-9][0-9]{0,9}"|\\*)$'},
                },
            ],
            "requestBody": _json_body(
                "CustomerUpdate",
                {
                    "status": {"status": "ACTIVE"},
                    "rep": {"salesRepId": "SR-002", "expectedVersion": 3},
                    "unassign": {"salesRepId": None},
                },
            ),
            "responses": _responses({"200": written}, ("409", "412", "415")),
        },
    }


def _rep_customers_path(max_page_size: int) -> Schema:
    link = _header('The next page: `<...>; rel="next"`; absent on the last page.')
    return {
        "get": {
            "operationId": "getSalesRepCustomers",
            "summary": "A rep's customers in id order, a page at a time.",
            "parameters": [
                _path_id("salesRepId", "SR-003"),
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": max_page_size},
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": inputs.MAX_CURSOR_LENGTH,
                    },
                },
            ],
            "responses": _responses(
                {
                    "200": _answer(
                        "A page of the rep's customers.", "SalesRepCustomersAnswer", {"Link": link}
                    )
                },
                (),
            ),
        }
    }


def _assignments_path() -> Schema:
    replayed = _header("`true` on an answer replayed for an Idempotency-Key.")
    headers = {"ETag": {**_ETAG, "required": True}, REPLAYED: replayed}
    created = {**headers, "Location": {**_header("The new customer's URL."), "required": True}}
    links = _links("getCustomer", "updateCustomer")
    return {
        "post": {
            "operationId": "assignCustomer",
            "summary": "Assign a customer to a rep; create it first when it does not exist.",
            "description": "Without `customer`, a customer that does not exist is NOT_FOUND."
            " With it (and without expectedVersion) the customer is created with those"
            " fields and the rep (201).",
            "parameters": [
                {
                    "name": IDEMPOTENCY_HEADER,
                    "in": "header",
                    "required": False,
                    "description": "The same key and body within 24 hours answer the first"
                    " answer again and write nothing; another body with the key is refused.",
                    "schema": {
                        "type": "string",
                        "pattern": f"^[\\x21-\\x7e]{{1,{MAX_KEY_LENGTH}}}$",
                    },
                },
            ],
            "requestBody": _json_body(
                "Assignment",
                {
                    "assign": {"customerId": "C-00002", "salesRepId": "SR-001"},
                    "create": {
                        "customerId": "C-NEW-1",
                        "salesRepId": "SR-001",
                        "customer": {"name": "Acme Fresh", "email": "buyer@acme.example"},
                    },
                },
            ),
            "responses": _responses(
                {
                    "200": _answer(
                        "Assigned (or already with that rep).", "CustomerAnswer", headers, links
                    ),
                    "201": _answer("Created with that rep.", "CustomerAnswer", created, links),
                },
                ("409", "415", "422"),
            ),
        }
    }


def openapi_document(*, max_page_size: int) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "graphql-api: the customerSalesRepTracking REST routes",
            "version": "1.0.0",
            "description": "The replaced REST function's routes, served beside /graphql by"
            " stored GraphQL operations. `source` says which store served an object: mysql,"
            " dynamodb or mock (the in-memory store).",
        },
        "paths": {
            "/customers/{customerId}": _customer_paths(),
            "/salesreps/{salesRepId}/customers": _rep_customers_path(max_page_size),
            "/assignments": _assignments_path(),
        },
        "components": {
            "schemas": component_schemas(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"bearer": []}],
    }


def openapi_text(*, max_page_size: int) -> str:
    """The document as committed and served: JSON, two-space indents."""
    return json.dumps(openapi_document(max_page_size=max_page_size), indent=2) + "\n"


def default_openapi_text() -> str:
    """The committed openapi.json: the document for the default settings."""
    return openapi_text(max_page_size=load_settings({}).max_page_size)
