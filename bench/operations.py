"""The benchmark's operations (O1..O4) as the HTTP requests each peer is sent.

The API and the naive peer take the same GraphQL documents; the REST peer takes
one route per operation and answers with the same JSON. R1 is the other way
round: the API's (and the naive peer's) REST route GET /customers/{id}, a stored
GraphQL operation, against the REST peer's hand-written route with that JSON.
Plans list the requests in the order wrk replays them (round robin), so the
smoke check sends exactly what the benchmark sends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from bench.data import SCALING_REP_ID, Scale, customer_id, rep_of_customer, sales_rep_id

CUSTOMER_FIELDS = "id name contactPerson email phone address city state zipCode country"

O1_QUERY = (
    "query O1($id: ID!) { customer(id: $id) {"
    f" {CUSTOMER_FIELDS} salesRep {{ id fullName email }} }} }}"
)
O2_QUERY = (
    "query O2($id: ID!, $first: Int!) { salesRep(id: $id) {"
    f" customers(first: $first) {{ nodes {{ {CUSTOMER_FIELDS} }} }} }} }}"
)
O3_QUERY = (
    "query O3 { salesReps(first: 20) { nodes { customers(first: 20) { nodes {"
    " id name salesRep { id } history(first: 5) { kind at } } } } } }"
)
O4_MUTATION = (
    "mutation O4($input: AssignCustomerInput!) { assignCustomer(input: $input) {"
    " __typename ... on Customer { id version salesRep { id fullName } }"
    " ... on UserError { code message } } }"
)
O2_FIRST = 100
O3_REPS, O3_CUSTOMERS, O3_EVENTS = 20, 20, 5
SCALING_FIRSTS = (10, 100, 1_000)
# Distinct ids a read plan rotates over; enough to defeat any cache, small for wrk.
_MAX_ROTATION = 5_000
# O4 plans: passes over a block of customers, each pass to another rep, so every
# request (also after wrk wraps around) moves a customer and writes an event.
_O4_PASSES = 8


class Style(Enum):
    GRAPHQL = "graphql"
    REST = "rest"


class Peer(Enum):
    API = "api"
    REST = "rest"
    NAIVE = "naive"

    @property
    def style(self) -> Style:
        return Style.REST if self is Peer.REST else Style.GRAPHQL


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    body: str | None = None

    def plan_line(self) -> str:
        # json.dumps never emits a tab or newline, so one request is one line.
        return "\t".join((self.method, self.path, self.body or ""))


def _graphql(query: str, variables: dict[str, object]) -> HttpRequest:
    return HttpRequest("POST", "/graphql", json.dumps({"query": query, "variables": variables}))


FLOOR_QUERY = "{ __typename }"


def floor_request(style: Style) -> HttpRequest:
    """The least a request can ask: what one request costs before any data."""
    if style is Style.REST:
        return HttpRequest("GET", "/ping")
    return _graphql(FLOOR_QUERY, {})


def customer_request(style: Style, ident: str) -> HttpRequest:
    if style is Style.REST:
        return HttpRequest("GET", f"/customers/{ident}")
    return _graphql(O1_QUERY, {"id": ident})


def rep_customers_request(style: Style, ident: str, first: int) -> HttpRequest:
    if style is Style.REST:
        return HttpRequest("GET", f"/salesreps/{ident}/customers?first={first}")
    return _graphql(O2_QUERY, {"id": ident, "first": first})


def overview_request(style: Style) -> HttpRequest:
    if style is Style.REST:
        query = f"reps={O3_REPS}&customers={O3_CUSTOMERS}&events={O3_EVENTS}"
        return HttpRequest("GET", f"/overview?{query}")
    return _graphql(O3_QUERY, {})


def assign_request(style: Style, customer: str, sales_rep: str) -> HttpRequest:
    if style is Style.REST:
        body = json.dumps({"customerId": customer, "salesRepId": sales_rep})
        return HttpRequest("POST", "/assignments", body)
    return _graphql(O4_MUTATION, {"input": {"customerId": customer, "salesRepId": sales_rep}})


def rest_route_customer_request(style: Style, ident: str) -> HttpRequest:
    """R1: the old clients' GET /customers/{id}, rep and newest history included."""
    if style is Style.REST:
        return HttpRequest("GET", f"/full/customers/{ident}")
    return HttpRequest("GET", f"/customers/{ident}")


def _spread(count: int, limit: int) -> list[int]:
    """Up to `limit` numbers in 1..count, evenly spread."""
    step = max(1, count // limit)
    return list(range(1, count + 1, step))[:limit]


def floor_plan(style: Style, scale: Scale) -> list[HttpRequest]:
    return [floor_request(style)]


def o1_plan(style: Style, scale: Scale) -> list[HttpRequest]:
    return [
        customer_request(style, customer_id(n)) for n in _spread(scale.customers, _MAX_ROTATION)
    ]


def r1_plan(style: Style, scale: Scale) -> list[HttpRequest]:
    numbers = _spread(scale.customers, _MAX_ROTATION)
    return [rest_route_customer_request(style, customer_id(n)) for n in numbers]


def o2_plan(style: Style, scale: Scale) -> list[HttpRequest]:
    reps = _spread(scale.sales_reps, _MAX_ROTATION)
    return [rep_customers_request(style, sales_rep_id(n), O2_FIRST) for n in reps]


def o3_plan(style: Style, scale: Scale) -> list[HttpRequest]:
    return [overview_request(style)]


def o4_block_size(scale: Scale, blocks: int) -> int:
    return min(1_000, scale.customers // blocks)


def o4_plan(style: Style, scale: Scale, *, block: int, blocks: int) -> list[HttpRequest]:
    """Assignments of the customers in block `block` of `blocks` (disjoint per run).

    Pass p moves each customer to the rep p + 1 places after its own; the
    passes differ, and no pass returns a customer to its seed rep.
    """
    size = o4_block_size(scale, blocks)
    numbers = range(block * size + 1, (block + 1) * size + 1)
    plan = []
    for step in range(1, _O4_PASSES + 1):
        for number in numbers:
            home = int(rep_of_customer(number, scale).removeprefix("SR-"))
            target = sales_rep_id((home - 1 + step) % scale.sales_reps + 1)
            plan.append(assign_request(style, customer_id(number), target))
    return plan


def scaling_plan(style: Style, first: int) -> list[HttpRequest]:
    return [rep_customers_request(style, SCALING_REP_ID, first)]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    summary: str
    writes: bool = False


OPERATIONS: Sequence[Operation] = (
    Operation("floor", "{ __typename }; the REST peer's cheapest route with auth (GET /ping)"),
    Operation("O1", "customer(id) with ten fields and salesRep { id fullName email }"),
    Operation(
        "O2", f"salesRep(id) {{ customers(first: {O2_FIRST}) {{ nodes {{ ten fields }} }} }}"
    ),
    Operation("O3", "salesReps(20) > customers(20) > { id name salesRep { id } history(5) }"),
    Operation("O4", "assignCustomer on rotating customers", writes=True),
    Operation(
        "R1", "REST GET /customers/{id}: the customer, its rep, 20 events (stored operation)"
    ),
)
