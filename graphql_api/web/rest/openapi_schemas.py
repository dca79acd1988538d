"""The OpenAPI document's component schemas: what the REST routes take and answer.

Limits, patterns and enums come from where the routes take them (validation.py,
records.py, web/rest/inputs.py, shapes.py), so the schemas cannot drift from what
the server checks and answers. web/rest/openapi.py puts them in the document.
"""

from __future__ import annotations

from typing import Any

from graphql_api import validation
from graphql_api.stores.records import EDITABLE_CUSTOMER_FIELDS, CustomerEventKind
from graphql_api.web.rest import inputs
from graphql_api.web.rest.shapes import SOURCES

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Schema], *, required: list[str] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


ID: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": validation.ID_MAX_LENGTH,
    "pattern": f"^{validation.ID_PATTERN.pattern}$",
}
_VERSION: Schema = {"type": "integer", "minimum": 1, "maximum": inputs.MAX_VERSION}
_TEXT_PATTERNS = {
    "email": validation.EMAIL_PATTERN.pattern,
    "phone": validation.PHONE_PATTERN.pattern,
}


def _customer_field(record_field: str) -> Schema:
    text: Schema = {"type": "string", "maxLength": EDITABLE_CUSTOMER_FIELDS[record_field]}
    if record_field in _TEXT_PATTERNS:
        text["pattern"] = f"^{_TEXT_PATTERNS[record_field]}$"
    return text


def _customer_properties() -> dict[str, Schema]:
    """The fields of a customer as answered (GraphQL's names and types)."""
    optional_texts = [name for name in inputs.CUSTOMER_MEMBERS if name != "name"]
    return {
        "id": {"type": "string"},
        "name": {"type": "string"},
        **{name: _nullable({"type": "string"}) for name in optional_texts},
        "status": ref("CustomerStatus"),
        "version": {"type": "integer", "minimum": 1},
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"},
        "source": ref("Source"),
    }


def component_schemas() -> dict[str, Schema]:
    status = {"type": "string", "enum": list(inputs.STATUSES)}
    rep = _object(
        {
            "id": {"type": "string"},
            "firstName": {"type": "string"},
            "lastName": {"type": "string"},
            "email": {"type": "string"},
            "phone": _nullable({"type": "string"}),
            "region": _nullable({"type": "string"}),
            "active": {"type": "boolean"},
            "source": ref("Source"),
        }
    )
    event = _object(
        {
            "kind": {"type": "string", "enum": [kind.value for kind in CustomerEventKind]},
            "at": {"type": "string", "format": "date-time"},
            "actor": _nullable({"type": "string"}),
            "note": _nullable({"type": "string"}),
            "fromStatus": _nullable(ref("CustomerStatus")),
            "toStatus": _nullable(ref("CustomerStatus")),
            "fromSalesRepId": _nullable({"type": "string"}),
            "toSalesRepId": _nullable({"type": "string"}),
        }
    )
    customer = _object(
        {
            **_customer_properties(),
            "salesRep": _nullable(ref("SalesRep")),
            "history": {"type": "array", "items": ref("CustomerEvent")},
        }
    )
    return {
        "Source": {"type": "string", "enum": list(SOURCES.values())},
        "CustomerStatus": status,
        "SalesRep": rep,
        "CustomerEvent": event,
        "CustomerInList": _object(_customer_properties()),
        "Customer": customer,
        "CustomerAnswer": _object(
            {
                "customer": ref("Customer"),
                "source": ref("Source"),
                "degraded": {"type": "boolean"},
            }
        ),
        "SalesRepCustomersAnswer": _object(
            {
                "salesRep": ref("SalesRep"),
                "source": ref("Source"),
                "degraded": {"type": "boolean"},
                "customers": {"type": "array", "items": ref("CustomerInList")},
                "totalCount": {"type": "integer", "minimum": 0},
                "nextCursor": _nullable({"type": "string"}),
            }
        ),
        "NewCustomer": _object(
            {
                **{
                    validation.input_name(name): _nullable(_customer_field(name))
                    for name in EDITABLE_CUSTOMER_FIELDS
                },
                "name": {**_customer_field("name"), "minLength": 1},
                "status": ref("CustomerStatus"),
            },
            required=["name"],
        ),
        "Assignment": _object(
            {
                "customerId": ID,
                "salesRepId": ID,
                "expectedVersion": _nullable(_VERSION),
                "customer": ref("NewCustomer"),
            },
            required=["customerId", "salesRepId"],
        ),
        "CustomerUpdate": {
            **_object(
                {
                    "status": ref("CustomerStatus"),
                    "salesRepId": _nullable(ID),
                    "expectedVersion": _nullable(_VERSION),
                },
                required=[],
            ),
            "anyOf": [{"required": ["status"]}, {"required": ["salesRepId"]}],
        },
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details; `code` is the GraphQL error code.",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "code": {"type": "string"},
                "requestId": {"type": "string"},
                "field": {"type": "string", "description": "VALIDATION: the field to fix."},
                "currentVersion": {"type": "integer", "description": "VERSION_CONFLICT."},
                "reason": {"type": "string", "description": "OVERLOADED: the bound hit."},
            },
            "required": ["type", "title", "status", "detail", "code", "requestId"],
        },
    }
