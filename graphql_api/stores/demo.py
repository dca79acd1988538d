"""The demo rows: one deterministic source for the in-memory store and `sql/` seed.

`sql/020_demo_seed.sql` is generated from this module (`graphql-api db seed-sql`)
and a test keeps the committed file identical to what this module produces, so
the in-memory demo and a seeded MySQL hold exactly the same rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from graphql_api.stores import records

SALES_REP_COUNT = 20
CUSTOMER_COUNT = 500
_SEED = 20240101
_EPOCH = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)

_FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloe",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nils",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
)
_LAST_NAMES = (
    "Alvarez",
    "Becker",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
)
_REGIONS = ("North", "South", "East", "West", "Central")
_COMPANY_WORDS = (
    "Acme",
    "Blue",
    "Cedar",
    "Delta",
    "Echo",
    "Falcon",
    "Granite",
    "Harbor",
    "Iron",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orchid",
    "Pioneer",
    "Quartz",
    "River",
    "Summit",
    "Timber",
    "Union",
    "Vertex",
    "Willow",
    "Zenith",
)
_COMPANY_KINDS = ("Labs", "Foods", "Logistics", "Systems", "Retail", "Health", "Energy", "Media")
_PLACES = (
    ("US", "CA", "San Jose"),
    ("US", "CA", "Fresno"),
    ("US", "NY", "Albany"),
    ("US", "TX", "Austin"),
    ("US", "WA", "Seattle"),
    ("US", "IL", "Chicago"),
    ("CA", "ON", "Toronto"),
    ("CA", "BC", "Vancouver"),
    ("DE", "BY", "Munich"),
    ("DE", "BE", "Berlin"),
    ("FR", "IDF", "Paris"),
    ("GB", "ENG", "Leeds"),
)
_STREETS = ("Main St", "Oak Ave", "Pine Rd", "Elm St", "Lake Dr", "Hill Rd", "Park Ave")


@dataclass(frozen=True, slots=True)
class DemoData:
    sales_reps: list[records.SalesRepRecord]
    customers: list[records.CustomerRecord]
    events: list[records.CustomerEventRecord]


def sales_rep_id(number: int) -> str:
    return f"SR-{number:03d}"


def customer_id(number: int) -> str:
    return f"C-{number:05d}"


def _sales_reps(rng: random.Random) -> list[records.SalesRepRecord]:
    reps = []
    for number in range(1, SALES_REP_COUNT + 1):
        first = _FIRST_NAMES[(number - 1) % len(_FIRST_NAMES)]
        last = rng.choice(_LAST_NAMES)
        at = _EPOCH + timedelta(days=number)
        reps.append(
            records.SalesRepRecord(
                id=sales_rep_id(number),
                first_name=first,
                last_name=last,
                email=f"{first}.{last}{number}@salepoint.example".lower(),
                phone=f"+1-555-{rng.randrange(1000, 10000)}",
                region=_REGIONS[number % len(_REGIONS)],
                # Every tenth rep has left: assigning to them is a validation error.
                active=number % 10 != 0,
                created_at=at,
                updated_at=at,
                source=records.DataSource.MEMORY,
            )
        )
    return reps


def _customer(
    rng: random.Random, number: int, reps: list[records.SalesRepRecord], next_event_id: int
) -> tuple[records.CustomerRecord, list[records.CustomerEventRecord]]:
    ident = customer_id(number)
    company = f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_KINDS)} {number}"
    country, state, city = rng.choice(_PLACES)
    contact_first, contact_last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    created = _EPOCH + timedelta(days=30, hours=number * 7)
    active_reps = [rep for rep in reps if rep.active]
    # About one customer in twenty waits for a rep.
    rep = None if number % 20 == 0 else rng.choice(active_reps)
    events: list[records.CustomerEventRecord] = []

    def event(kind: records.CustomerEventKind, at: datetime, **changed: Any) -> None:
        quiet: dict[str, Any] = {
            "from_sales_rep_id": None,
            "to_sales_rep_id": None,
            "from_status": None,
            "to_status": None,
            "note": None,
        }
        events.append(
            records.CustomerEventRecord(
                id=next_event_id + len(events),
                customer_id=ident,
                kind=kind,
                at=at,
                actor="seed",
                **{**quiet, **changed},
            )
        )

    event(records.CustomerEventKind.CREATED, created, to_status=records.CustomerStatus.PROSPECT)
    status = records.CustomerStatus.PROSPECT
    if rep is not None:
        event(
            records.CustomerEventKind.ASSIGNED,
            created + timedelta(hours=1),
            to_sales_rep_id=rep.id,
            note="initial assignment",
        )
    later = rng.choice(list(records.CustomerStatus))
    if later is not records.CustomerStatus.PROSPECT:
        event(
            records.CustomerEventKind.STATUS_CHANGED,
            created + timedelta(days=3),
            from_status=status,
            to_status=later,
        )
        status = later
    customer = records.CustomerRecord(
        id=ident,
        name=company,
        contact_person=f"{contact_first} {contact_last}",
        email=f"{contact_first}.{contact_last}@{company.split()[0]}{number}.example".lower(),
        phone=f"+1-555-{rng.randrange(1000, 10000)}",
        address=f"{rng.randrange(1, 999)} {rng.choice(_STREETS)}",
        city=city,
        state=state,
        zip_code=f"{rng.randrange(10000, 99999)}",
        country=country,
        status=status,
        sales_rep_id=rep.id if rep else None,
        # version counts the changes: creation is 1, each later event adds one.
        version=len(events),
        created_at=created,
        updated_at=events[-1].at,
        source=records.DataSource.MEMORY,
    )
    return customer, events


def demo_data() -> DemoData:
    rng = random.Random(_SEED)
    reps = _sales_reps(rng)
    customers: list[records.CustomerRecord] = []
    events: list[records.CustomerEventRecord] = []
    for number in range(1, CUSTOMER_COUNT + 1):
        customer, its_events = _customer(rng, number, reps, next_event_id=len(events) + 1)
        customers.append(customer)
        events.extend(its_events)
    return DemoData(sales_reps=reps, customers=customers, events=events)
