"""What a route takes from its path, query and body, checked and named as the client sent it.

Each check raises a 400 problem naming the field (`customerId`, `limit`,
`customer.email`, `If-Match`). The rules themselves are graphql_api/validation.py's,
the ones every write follows: ids and the `customer` fields are checked here with
them, up front, because POST /assignments assigns an existing customer without
passing `customer` on, and a request the document calls invalid must be refused
whichever way it goes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request

from graphql_api import validation
from graphql_api.errors import ValidationFailedError
from graphql_api.stores.records import EDITABLE_CUSTOMER_FIELDS, CustomerStatus
from graphql_api.web.request_body import check_text
from graphql_api.web.rest.problems import Problem, invalid

# GraphQL's Int is 32 bits; a larger version could not be a customer's.
MAX_VERSION = 2**31 - 1
# A cursor this API issues is base64 of a short prefix and an id: far below this.
MAX_CURSOR_LENGTH = 200
DEFAULT_LIMIT = 50
STATUSES = tuple(status.value for status in CustomerStatus)
# The members of `customer` in POST /assignments: the customer's own fields.
CUSTOMER_MEMBERS = tuple(validation.input_name(name) for name in EDITABLE_CUSTOMER_FIELDS)
_ETAG = re.compile(r'"([0-9]{1,10})"')


def checked_id(field_name: str, value: object) -> str:
    if not isinstance(value, str):
        raise invalid(field_name, f"{field_name} must be a string")
    try:
        return validation.check_id(field_name, value)
    except ValidationFailedError as error:
        raise invalid(field_name, error.message) from None


def _version(field_name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSION:
        raise invalid(field_name, f"{field_name} must be an integer from 1 to {MAX_VERSION}")
    return value


def _status(field_name: str, value: object) -> str:
    if value not in STATUSES:
        raise invalid(field_name, f"{field_name} must be one of {', '.join(STATUSES)}")
    return str(value)


def _one_query_value(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise invalid(name, f"{name} must be sent once")
    return values[0] if values else None


def page_limit(request: Request, *, max_page_size: int) -> int:
    given = _one_query_value(request, "limit")
    if given is None:
        return min(DEFAULT_LIMIT, max_page_size)
    if not given.isdigit() or not 1 <= int(given) <= max_page_size:
        raise invalid("limit", f"limit must be an integer from 1 to {max_page_size}")
    return int(given)


def page_cursor(request: Request) -> str | None:
    given = _one_query_value(request, "cursor")
    if given is not None and not 0 < len(given) <= MAX_CURSOR_LENGTH:
        raise invalid("cursor", "cursor is not a cursor this API issued for this list")
    return given


async def json_object(request: Request) -> dict[str, Any]:
    """The body: exactly application/json, one JSON object, Unicode text."""
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() != "application/json":
        raise Problem("BAD_REQUEST", "Send the body as application/json.", status=415)
    body = await request.body()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise Problem("BAD_REQUEST", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Problem("BAD_REQUEST", "The request body must be a JSON object.")
    try:
        check_text(data)
    except HTTPException as refused:
        raise Problem("BAD_REQUEST", refused.reason) from None
    return data


def _only_members(data: Mapping[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
    for name in data:
        if name not in allowed:
            raise invalid(prefix + name, f"{prefix}{name} is not a member this route takes")


@dataclass(frozen=True, slots=True)
class AssignmentBody:
    customer_id: str
    sales_rep_id: str
    expected_version: int | None
    # The customer's fields to create it with when it does not exist (GraphQL names).
    new_customer: dict[str, Any] | None


def assignment_body(data: Mapping[str, Any]) -> AssignmentBody:
    _only_members(data, ("customerId", "salesRepId", "expectedVersion", "customer"))
    version = data.get("expectedVersion")
    return AssignmentBody(
        customer_id=checked_id("customerId", data.get("customerId")),
        sales_rep_id=checked_id("salesRepId", data.get("salesRepId")),
        expected_version=None if version is None else _version("expectedVersion", version),
        new_customer=_new_customer(data["customer"]) if "customer" in data else None,
    )


def _new_customer(given: object) -> dict[str, Any]:
    """The fields to create the customer with, checked by the rules every write
    follows (graphql_api/validation.py), whether or not it is created."""
    if not isinstance(given, dict):
        raise invalid("customer", "customer must be an object")
    _only_members(given, (*CUSTOMER_MEMBERS, "status"), prefix="customer.")
    if not isinstance(given.get("name"), str):
        raise invalid("customer.name", "customer.name is required to create a customer")
    fields: dict[str, Any] = {}
    for record_field, name in zip(EDITABLE_CUSTOMER_FIELDS, CUSTOMER_MEMBERS, strict=True):
        value = given.get(name)
        if value is not None and not isinstance(value, str):
            raise invalid(f"customer.{name}", f"customer.{name} must be a string or null")
        try:
            fields[name] = validation.check_customer_field(record_field, value)
        except ValidationFailedError as error:
            raise invalid(f"customer.{name}", f"customer.{error.message}") from None
    if "status" in given:
        fields["status"] = _status("customer.status", given["status"])
    return fields


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    status: str | None
    # Left out: the rep stays; null: the customer is unassigned.
    changes_rep: bool
    sales_rep_id: str | None
    expected_version: int | None


def customer_update(data: Mapping[str, Any]) -> CustomerUpdate:
    _only_members(data, ("status", "salesRepId", "expectedVersion"))
    if "status" not in data and "salesRepId" not in data:
        raise invalid("status", "send status, salesRepId or both")
    rep = data.get("salesRepId")
    version = data.get("expectedVersion")
    return CustomerUpdate(
        status=_status("status", data["status"]) if "status" in data else None,
        changes_rep="salesRepId" in data,
        sales_rep_id=None if rep is None else checked_id("salesRepId", rep),
        expected_version=None if version is None else _version("expectedVersion", version),
    )


def if_match_version(request: Request) -> int | None:
    """The version an If-Match header names (our ETags are `"<version>"`); None without one.

    `*` asks only that the customer exists, which PUT checks anyway."""
    given = request.headers.getlist("if-match")
    if not given or given == ["*"]:
        return None
    matched = _ETAG.fullmatch(given[0].strip()) if len(given) == 1 else None
    if matched is None:
        raise invalid("If-Match", 'If-Match must be one ETag this API issued, e.g. "3"')
    return _version("If-Match", int(matched.group(1)))


def etag(version: int) -> str:
    return f'"{version}"'
