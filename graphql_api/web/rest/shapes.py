"""GraphQL results as the REST routes answer them.

The objects keep the GraphQL field names (so a client moving between the two
reads one vocabulary), with the replaced function's source tracking: `source`
is `mysql`, `dynamodb` or `mock` (the in-memory store) on every object and on
the answer as a whole, and `degraded` says when a fallback served a part.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from graphql_api.web.rest.problems import Problem

# GraphQL's DataSource -> the old function's names.
SOURCES = {"MYSQL": "mysql", "DYNAMODB": "dynamodb", "MEMORY": "mock"}
# A write's typed failure -> the code's problem; VALIDATION and conflicts add members.
_MEMBERS_OF_FAILURE = {"VERSION_CONFLICT": "currentVersion"}


def _with_source(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "source": SOURCES[item["source"]]}


def _event(event: dict[str, Any]) -> dict[str, Any]:
    rest = {key: value for key, value in event.items() if not key.endswith("SalesRep")}
    for end in ("from", "to"):
        rep = event[f"{end}SalesRep"]
        rest[f"{end}SalesRepId"] = None if rep is None else rep["id"]
    return rest


def customer(item: dict[str, Any]) -> dict[str, Any]:
    shaped = _with_source(item)
    if item.get("salesRep") is not None:
        shaped["salesRep"] = _with_source(item["salesRep"])
    if "history" in item:
        shaped["history"] = [_event(event) for event in item["history"]]
    return shaped


def sales_rep(item: dict[str, Any]) -> dict[str, Any]:
    return _with_source({key: value for key, value in item.items() if key != "customers"})


def envelope(name: str, item: dict[str, Any], stores: dict[str, Any]) -> dict[str, Any]:
    """`{name: item, source, degraded}`: the answer's source is its main object's."""
    return {name: item, "source": item["source"], "degraded": bool(stores.get("degraded"))}


def next_link(path: str, *, limit: int, cursor: str | None) -> str | None:
    """The Link header's next page (RFC 8288), relative like every URL we answer."""
    if cursor is None:
        return None
    return f'<{path}?{urlencode({"limit": limit, "cursor": cursor})}>; rel="next"'


def written_customer(result: dict[str, Any], *, fields: dict[str, str]) -> dict[str, Any]:
    """A write's Customer, or its typed failure as a problem. `fields` maps the
    GraphQL input's field names to the request's where they differ."""
    if result["__typename"] == "Customer":
        return {key: value for key, value in result.items() if key != "__typename"}
    code = result["code"]
    members: dict[str, object] = {}
    if code == "VALIDATION":
        members["field"] = fields.get(result["field"], result["field"])
    if code in _MEMBERS_OF_FAILURE:
        member = _MEMBERS_OF_FAILURE[code]
        members[member] = result[member]
    raise Problem(code, result["message"], members=members)
